import Foundation
import Testing
import TestSupport

/// Golden files of the run report (Tests/Fixtures/report-golden.*): times, durations, ids, hashes, addresses and paths
/// replaced by stable placeholders (ids numbered in order of first appearance, so the structure is still checked).
/// `CLONECTL_UPDATE_GOLDEN=1` rewrites the files instead of comparing.
enum ReportGolden {
    static func normalise(_ text: String) -> String {
        var s = text
        var counters: [String: [String: Int]] = [:]
        func numbered(_ pattern: String, _ prefix: String) {
            let regex = try! NSRegularExpression(pattern: pattern)
            var out = ""
            var last = s.startIndex
            for m in regex.matches(in: s, range: NSRange(s.startIndex..., in: s)) {
                let r = Range(m.range, in: s)!
                let value = String(s[r])
                let n = counters[prefix, default: [:]][value] ?? (counters[prefix, default: [:]].count + 1)
                counters[prefix, default: [:]][value] = n
                out += s[last..<r.lowerBound] + "<\(prefix)\(n)>"
                last = r.upperBound
            }
            s = out + s[last...]
        }
        func replace(_ pattern: String, _ with: String) {
            let regex = try! NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines])
            s = regex.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s), withTemplate: with)
        }
        numbered("run-[0-9]{8}T[0-9]{6}-[0-9a-f]{8}", "run")
        numbered("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "cmd")
        numbered("\\bi-[0-9a-f]{8,17}\\b", "i-")
        numbered("\\bami-[0-9a-f]{8,17}\\b", "ami-")
        replace("\"(seconds|wallSeconds|waitSeconds)\" : [0-9.eE+-]+", "\"$1\" : 0")
        replace("\\b[0-9a-f]{64}\\b", "<sha256>")
        replace("\\b[0-9a-f]{12,16}\\b", "<sha>")
        replace("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z", "<time>")
        replace("[0-9]{4}-[0-9]{2}-[0-9]{2}", "<date>")
        replace("\\b[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+\\b", "<ip>")
        // The name Windows picks after Sysprep (the simulator draws it at random); hostname reports the rename from it.
        replace("\\bWIN-[A-Z0-9]{7}\\b", "<win-name>")
        replace("/[^\\s`\"|)]*/plan\\.yaml", "<dir>/plan.yaml")
        replace("[0-9]+(\\.[0-9])? s\\b|[0-9]+ min [0-9]{2} s|[0-9]+ h [0-9]{2} min", "<dur>")
        // Mermaid gantt task times (milliseconds from the start).
        replace(":((crit|done|active), )?[0-9]+, [0-9]+$", ":$1<t>")
        return s
    }

    /// Compares `actual` (normalised) with the golden file `name`, or rewrites it when asked.
    static func check(_ actual: String, against name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = TestEnvironment.repoRoot.appendingPathComponent("Tests/Fixtures/\(name)")
        let normalised = normalise(actual)
        if ProcessInfo.processInfo.environment["CLONECTL_UPDATE_GOLDEN"] == "1" {
            try normalised.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let golden = try String(contentsOf: url, encoding: .utf8)
        if golden != normalised {
            let a = golden.split(separator: "\n", omittingEmptySubsequences: false)
            let b = normalised.split(separator: "\n", omittingEmptySubsequences: false)
            let first = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }
            Issue.record("""
                report differs from Tests/Fixtures/\(name) (CLONECTL_UPDATE_GOLDEN=1 rewrites it) at line \((first?.offset ?? min(a.count, b.count)) + 1):
                golden: \(first.map { String($0.element.0) } ?? "(end)")
                actual: \(first.map { String($0.element.1) } ?? "(end)")
                """, sourceLocation: sourceLocation)
        }
    }
}
