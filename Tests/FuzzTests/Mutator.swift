import Foundation

/// A small deterministic mutation engine: a seeded SplitMix64, byte-level mutations, a token dictionary, splicing
/// between corpus entries and a "nest" mutation that builds deep nesting (what crashed the XML reader).
struct Mutator {
    private var state: UInt64
    let corpus: [[UInt8]]
    let dictionary: [[UInt8]]

    init(seed: UInt64, corpus: [[UInt8]], dictionary: [String]) {
        state = seed
        self.corpus = corpus
        self.dictionary = dictionary.map { Array($0.utf8) }
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }

    static let interesting: [UInt8] = [0, 0x01, 0x07, 0x0A, 0x0D, 0x1B, 0x22, 0x23, 0x26, 0x27, 0x2C, 0x2D, 0x3A, 0x3B,
                                       0x3C, 0x3D, 0x3E, 0x5B, 0x5C, 0x5D, 0x7B, 0x7D, 0x7F, 0x80, 0xC3, 0xE2, 0xEF, 0xFF]

    /// One input: a corpus entry with one to four mutations.
    mutating func input() -> [UInt8] {
        var data = corpus[below(corpus.count)]
        for _ in 0...below(4) { mutate(&data) }
        return data
    }

    mutating func mutate(_ data: inout [UInt8]) {
        let at = below(data.count + 1)
        switch below(9) {
        case 0 where !data.isEmpty:
            data[below(data.count)] ^= UInt8(1 << below(8))
        case 1 where !data.isEmpty:
            data[below(data.count)] = Self.interesting[below(Self.interesting.count)]
        case 2 where !data.isEmpty:
            let length = min(1 + below(16), data.count - min(at, data.count))
            data.removeSubrange(min(at, data.count)..<min(at, data.count) + length)
        case 3:
            data.insert(contentsOf: dictionary[below(dictionary.count)], at: at)
        case 4 where !data.isEmpty:
            let start = below(data.count)
            let chunk = data[start..<min(data.count, start + 1 + below(64))]
            data.insert(contentsOf: chunk, at: at)
        case 5:
            let other = corpus[below(corpus.count)]
            guard !other.isEmpty else { return }
            let start = below(other.count)
            data.insert(contentsOf: other[start..<min(other.count, start + 1 + below(128))], at: at)
        case 6:
            // Deep nesting: a token repeated up to 70,000 times, sometimes closed again.
            let token = dictionary[below(dictionary.count)]
            let times = [10, 70, 200, 2_000, 10, 70, 200, 2_000, 5_000, 70_000][below(10)]
            var block: [UInt8] = []
            block.reserveCapacity(token.count * times)
            for _ in 0..<times { block += token }
            data.insert(contentsOf: block, at: at)
        case 7 where !data.isEmpty:
            data.removeSubrange(below(data.count)...)
        default:
            data.insert(Self.interesting[below(Self.interesting.count)], at: at)
        }
    }
}

/// Runs `body` on mutated inputs until `seconds` pass; prints how many inputs ran (a figure, not an assertion).
/// CLONECTL_FUZZ_SECONDS lengthens every target for a longer hunt; the seed is fixed, so a failure reproduces.
func fuzz(_ name: String, corpus folder: String, dictionary: [String], seed: UInt64,
          _ body: ([UInt8]) throws -> Void) throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fuzz-corpus/\(folder)")
    let files = try FileManager.default.contentsOfDirectory(atPath: root.path).sorted()
    let corpus = try files.map { [UInt8](try Data(contentsOf: root.appendingPathComponent($0))) }
    precondition(!corpus.isEmpty, "empty corpus \(folder)")
    let seconds = ProcessInfo.processInfo.environment["CLONECTL_FUZZ_SECONDS"].flatMap(Double.init) ?? 2
    var mutator = Mutator(seed: seed, corpus: corpus, dictionary: dictionary)
    // The seeds themselves first, unmutated.
    for entry in corpus { try body(entry) }
    let deadline = Date().addingTimeInterval(seconds)
    var runs = 0
    while Date() < deadline {
        try body(mutator.input())
        runs += 1
    }
    print("fuzz \(name): \(runs) mutated inputs in \(seconds) s (seed \(seed), \(corpus.count) seeds)")
}
