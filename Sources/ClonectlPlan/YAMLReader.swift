import Yams

/// Walks a YAML tree, reading typed values and collecting every problem with its line and field path,
/// so a plan with five mistakes reports five, each saying where and what would be valid.
final class YAMLReader {
    let file: String
    private(set) var issues: [PlanIssue] = []

    init(file: String) { self.file = file }

    /// A mapping node with its path, for reading members.
    struct Mapping {
        let node: Node
        let path: String
        let members: [String: Node]
    }

    func issue(_ node: Node?, _ path: String, _ message: String) {
        let mark = node?.mark
        issues.append(PlanIssue(file: file, line: mark?.line, column: mark?.column, field: path, message: message))
    }

    /// Reads a mapping whose keys must be among `allowed`; reports unknown keys (with a near match) and missing
    /// `required` ones.
    func mapping(_ node: Node?, _ path: String, allowed: [String], required: [String] = []) -> Mapping? {
        guard let node else { return nil }
        guard case .mapping(let map) = node else {
            issue(node, path, "expected a mapping with keys \(allowed.joined(separator: ", ")), found \(describe(node))")
            return nil
        }
        var members: [String: Node] = [:]
        for (keyNode, value) in map {
            guard let key = keyNode.string else {
                issue(keyNode, path, "keys must be plain strings")
                continue
            }
            let child = join(path, key)
            if !allowed.contains(key) {
                let hint = Suggest.closest(key, in: allowed).map { "did you mean '\($0)'? " } ?? ""
                issue(keyNode, child, "unknown key; \(hint)valid keys here: \(allowed.joined(separator: ", "))")
                continue
            }
            if members[key] != nil { issue(keyNode, child, "appears twice") }
            members[key] = value
        }
        for key in required where members[key] == nil {
            issue(node, join(path, key), "is required")
        }
        return Mapping(node: node, path: path, members: members)
    }

    /// A scalar string; `check` returns a message when the value is not valid.
    func string(_ m: Mapping?, _ key: String, check: ((String) -> String?)? = nil) -> String? {
        guard let m, let node = m.members[key] else { return nil }
        let path = join(m.path, key)
        guard case .scalar(let scalar) = node else {
            issue(node, path, "expected a string, found \(describe(node))")
            return nil
        }
        let value = scalar.string
        if let message = check?(value) {
            issue(node, path, message)
            return nil
        }
        return value
    }

    func int(_ m: Mapping?, _ key: String, range: ClosedRange<Int>) -> Int? {
        guard let m, let node = m.members[key] else { return nil }
        guard let value = node.int, range.contains(value) else {
            issue(node, join(m.path, key), "expected a whole number from \(range.lowerBound) to \(range.upperBound), found \(describe(node))")
            return nil
        }
        return value
    }

    func bool(_ m: Mapping?, _ key: String) -> Bool? {
        guard let m, let node = m.members[key] else { return nil }
        guard case .scalar(let s) = node, ["true", "false"].contains(s.string) else {
            issue(node, join(m.path, key), "expected true or false, found \(describe(node))")
            return nil
        }
        return s.string == "true"
    }

    func stringList(_ m: Mapping?, _ key: String, check: ((String) -> String?)? = nil) -> [String]? {
        guard let m, let node = m.members[key] else { return nil }
        let path = join(m.path, key)
        guard case .sequence(let seq) = node else {
            issue(node, path, "expected a list, found \(describe(node))")
            return nil
        }
        var out: [String] = []
        for (i, item) in seq.enumerated() {
            guard case .scalar(let s) = item else {
                issue(item, "\(path)[\(i)]", "expected a string, found \(describe(item))")
                continue
            }
            if let message = check?(s.string) { issue(item, "\(path)[\(i)]", message) } else { out.append(s.string) }
        }
        return out
    }

    /// A list of mappings, each read by `each` with its index path.
    func list<T>(_ m: Mapping?, _ key: String, _ each: (Node, String) -> T?) -> [T]? {
        guard let m, let node = m.members[key] else { return nil }
        let path = join(m.path, key)
        guard case .sequence(let seq) = node else {
            issue(node, path, "expected a list, found \(describe(node))")
            return nil
        }
        return seq.enumerated().compactMap { each($1, "\(path)[\($0)]") }
    }

    /// A string-to-string mapping (tags).
    func stringMap(_ m: Mapping?, _ key: String, check: (String, String) -> String?) -> [String: String]? {
        guard let m, let node = m.members[key] else { return nil }
        let path = join(m.path, key)
        guard case .mapping(let map) = node else {
            issue(node, path, "expected a mapping of names to values, found \(describe(node))")
            return nil
        }
        var out: [String: String] = [:]
        for (k, v) in map {
            guard let key = k.string, case .scalar(let value) = v else {
                issue(k, path, "entries must be 'name: value' with plain strings")
                continue
            }
            if let message = check(key, value.string) { issue(k, join(path, key), message) } else { out[key] = value.string }
        }
        return out
    }

    func member(_ m: Mapping?, _ key: String) -> (Node, String)? {
        guard let m, let node = m.members[key] else { return nil }
        return (node, join(m.path, key))
    }

    private func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let s): return s.string.isEmpty ? "nothing" : "'\(s.string.prefix(40))'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}

/// "Did you mean": the allowed word nearest to a typo, by edit distance (case ignored). One helper for plan keys,
/// time-zone ids and payload parameters (ClonectlAgent's ParameterCheck).
public enum Suggest {
    /// The nearest candidate, when it is near enough to be a typo.
    public static func closest(_ word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, word.count / 3) else { return nil }
        return best.0
    }

    /// Levenshtein distance over Characters.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
