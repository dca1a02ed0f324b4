import Foundation

/// A payload's parameters as its `param()` block declares them, for `clonectl payloads show`.
///
/// A light scanner, not a PowerShell parser: it drops comments, finds the first `param(` block and splits it at
/// top-level commas. Enough for the house style (one typed, attributed parameter per entry); it returns an
/// empty list rather than guessing when the block is not found.
public struct ScriptParameter: Equatable, Sendable {
    public let name: String
    /// `string`, `bool`, `string[]`...; nil when untyped.
    public let type: String?
    public let mandatory: Bool
    /// Other attributes as written, e.g. `ValidateLength(1, 15)`.
    public let attributes: [String]
    /// The default value expression as written.
    public let defaultValue: String?

    public static func parse(script: String) -> [ScriptParameter] {
        let code = Array(stripComments(script))
        guard let open = findParamOpen(code) else { return [] }
        var depth = 0, i = open, quote: Character? = nil
        var segments: [String] = [], current = ""
        while i < code.count {
            let c = code[i]
            i += 1
            if let q = quote {
                current.append(c)
                if c == q { quote = nil }
                continue
            }
            switch c {
            case "'", "\"": quote = c; current.append(c)
            case "(", "[", "{":
                depth += 1
                if depth > 1 { current.append(c) }
            case ")", "]", "}":
                depth -= 1
                if depth == 0 { segments.append(current); return segments.compactMap(entry) }
                current.append(c)
            case "," where depth == 1: segments.append(current); current = ""
            default: current.append(c)
            }
        }
        return []
    }

    /// One `[attr()] [type] $Name = default` entry.
    static func entry(_ text: String) -> ScriptParameter? {
        // The variable is the first `$` outside brackets: `[Parameter(Mandatory = $true)]` holds one too.
        var level = 0
        guard let dollar = text.firstIndex(where: { c in
            if c == "[" || c == "(" { level += 1 } else if c == "]" || c == ")" { level -= 1 }
            return c == "$" && level == 0
        }) else { return nil }
        let head = text[..<dollar]
        let rest = text[text.index(after: dollar)...]
        let name = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
        guard !name.isEmpty else { return nil }
        var defaultValue: String?
        if let eq = rest.firstIndex(of: "=") {
            defaultValue = rest[rest.index(after: eq)...].trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // Bracketed groups before $Name: attributes have parentheses, the type does not.
        var groups: [String] = [], depth = 0, current = ""
        for c in head {
            if c == "[" { depth += 1; if depth == 1 { current = ""; continue } }
            if c == "]" { depth -= 1; if depth == 0 { groups.append(current); continue } }
            if depth > 0 { current.append(c) }
        }
        let type = groups.last { !$0.contains("(") }
        let attributes = groups.filter { $0.contains("(") }
        let mandatory = attributes.contains { a in
            let flat = a.lowercased().filter { !$0.isWhitespace }
            return flat.contains("mandatory") && !flat.contains("mandatory=$false")
        }
        return ScriptParameter(name: name, type: type, mandatory: mandatory,
                               attributes: attributes.filter { !$0.lowercased().hasPrefix("parameter(") },
                               defaultValue: defaultValue)
    }

    /// Index just after the `(` of the first `param(` outside strings (comments are gone by now).
    static func findParamOpen(_ code: [Character]) -> Int? {
        var i = 0
        while i + 5 <= code.count {
            let word = String(code[i..<i + 5]).lowercased()
            let before = i == 0 ? " " : code[i - 1]
            if word == "param", !(before.isLetter || before.isNumber || before == "-" || before == "$") {
                var j = i + 5
                while j < code.count, code[j].isWhitespace { j += 1 }
                if j < code.count, code[j] == "(" { return j }
            }
            i += 1
        }
        return nil
    }

    /// Drops `<# ... #>` blocks and `# ...` line comments that are not inside quotes.
    static func stripComments(_ text: String) -> String {
        var out = "", chars = Array(text), i = 0
        var quote: Character? = nil
        while i < chars.count {
            let c = chars[i]
            if let q = quote {
                out.append(c)
                if c == q { quote = nil }
                i += 1
            } else if c == "'" || c == "\"" {
                quote = c; out.append(c); i += 1
            } else if c == "<", i + 1 < chars.count, chars[i + 1] == "#" {
                i += 2
                while i + 1 < chars.count, !(chars[i] == "#" && chars[i + 1] == ">") { i += 1 }
                i += 2
            } else if c == "#" {
                while i < chars.count, chars[i] != "\n" { i += 1 }
            } else {
                out.append(c); i += 1
            }
        }
        return out
    }
}
