import Foundation

/// One `[section]` of a shared config or credentials file.
public struct ConfigSection: Sendable, Equatable {
    /// The header text between the brackets, trimmed (`default`, `profile dev`, `services local`).
    public var header: String
    /// Keys are lower-cased (the CLI's configparser does the same); values are trimmed.
    public var values: [String: String]
    /// Nested blocks such as `ssm =` followed by indented `endpoint_url = ...` lines.
    public var subsections: [String: [String: String]]
    /// 1-based line of the header, for error messages.
    public var line: Int
}

/// Which of the two shared files is being parsed: they differ in comment rules and in how much of a bad line may be
/// echoed back (the credentials file holds secrets, so its content is never quoted).
public enum ConfigFileKind: Sendable {
    case config
    case credentials
}

/// A parser for the INI dialect of ~/.aws/config and ~/.aws/credentials, following Python's configparser as the
/// AWS CLI uses it: `#` and `;` start full-line comments, `=` or `:` separates key and value, a line indented deeper
/// than its key continues it (nested `key = value` pairs when the key's own value is empty), keys are
/// case-insensitive. There are no inline comments: in `region = eu-west-1  # Ireland` the whole text after `=` is
/// the value, as the AWS CLI reads it; such a value gets a warning, since it was surely meant as a comment.
public enum ConfigFileParser {
    public static func parse(_ text: String, kind: ConfigFileKind, label: String) throws -> [ConfigSection] {
        var warnings: [String] = []
        return try parse(text, kind: kind, label: label, warnings: &warnings)
    }

    public static func parse(_ text: String, kind: ConfigFileKind, label: String,
                             warnings: inout [String]) throws -> [ConfigSection] {
        var sections: [ConfigSection] = []
        // The key whose indented continuation lines we may be reading, with its indentation and section index.
        var openKey: (name: String, indent: Int, hadValue: Bool)?
        var body = text
        if body.hasPrefix("\u{FEFF}") { body.removeFirst() }
        // "\r\n" is one Character in Swift, so split on both forms of line end.
        let lines = body.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })

        for (index, rawLine) in lines.enumerated() {
            let lineNumber = index + 1
            var line = String(rawLine)
            if line.hasSuffix("\r") { line.removeLast() }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            let indent = line.prefix { $0 == " " || $0 == "\t" }.count
            let content = trimmed
            if looksLikeInlineComment(content) {
                let key = splitKeyValue(content)?.0 ?? "a value"
                warnings.append("\(label) line \(lineNumber): the value of '\(excerpt(key, limit: 40))' goes on after a ' #' or ' ;'; "
                    + "the AWS CLI (and clonectl) read that as part of the value, not as a comment: "
                    + "put the comment on a line of its own")
            }

            func fail(_ what: String) -> AWSConfigError {
                AWSConfigError(.syntax, "\(label) line \(lineNumber): \(what)")
            }

            // Deeper indentation than the open key: a continuation (nested pair or multi-line value).
            if let key = openKey, indent > key.indent, !sections.isEmpty {
                let last = sections.count - 1
                if key.hadValue {
                    sections[last].values[key.name, default: ""] += "\n" + content
                } else {
                    guard let (subKey, subValue) = splitKeyValue(content) else {
                        throw fail("expected an indented 'key = value' under '\(key.name) =', "
                            + "found \(quoted(content, kind: kind)); indent nested settings as 'key = value'")
                    }
                    sections[last].subsections[key.name, default: [:]][subKey] = subValue
                }
                continue
            }
            openKey = nil

            if content.hasPrefix("[") {
                guard content.hasSuffix("]") else {
                    throw fail("section header is missing its closing ']': \(quoted(content, kind: kind))")
                }
                let name = content.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                guard !name.isEmpty else { throw fail("empty section header '[]'; name the section, e.g. [default]") }
                // A repeated section starts a new block; loaders merge blocks in order, so later lines win.
                sections.append(ConfigSection(header: name, values: [:], subsections: [:], line: lineNumber))
                continue
            }

            guard let (key, value) = splitKeyValue(content) else {
                throw fail("expected 'key = value' or '[section]', found \(quoted(content, kind: kind))")
            }
            guard !sections.isEmpty else {
                throw fail("setting '\(key)' appears before any [section]; put it under a header such as [default]")
            }
            sections[sections.count - 1].values[key] = value
            openKey = (key, indent, !value.isEmpty)
        }
        return sections
    }

    /// `key = value` or `key: value`, split at the first delimiter; nil when there is none or the key is empty.
    static func splitKeyValue(_ content: String) -> (String, String)? {
        guard let delimiter = content.firstIndex(where: { $0 == "=" || $0 == ":" }) else { return nil }
        let key = content[..<delimiter].trimmingCharacters(in: .whitespaces).lowercased()
        let value = content[content.index(after: delimiter)...].trimmingCharacters(in: .whitespaces)
        return key.isEmpty ? nil : (key, value)
    }

    /// ` # ...` or ` ; ...` after a value: what other INI readers drop as a comment.
    static func looksLikeInlineComment(_ content: String) -> Bool {
        guard let (_, value) = splitKeyValue(content), !value.isEmpty else { return false }
        var previous: Character = " "
        for (offset, char) in value.enumerated() {
            if offset > 0, char == "#" || char == ";", previous == " " || previous == "\t" { return true }
            previous = char
        }
        return false
    }

    /// A bad line, quoted for the error message unless it may carry a secret.
    static func quoted(_ content: String, kind: ConfigFileKind) -> String {
        let lower = content.lowercased()
        if kind == .credentials || lower.contains("secret") || lower.contains("token") {
            return "a line whose content is not shown because it may hold a secret"
        }
        return "'\(excerpt(content, limit: 80))'"
    }
}
