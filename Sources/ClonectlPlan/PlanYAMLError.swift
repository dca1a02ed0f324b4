import Yams

/// A YAML syntax error as a plan issue: line, column and libyaml's problem, with the offending source line quoted
/// only when that cannot show a secret. Yams' own description always quotes the line, and a plan's mistaken
/// `password: "hunter2` is exactly the kind of line that fails to parse.
enum PlanYAMLError {
    static func issue(_ error: YamlError, text: String, file: String) -> PlanIssue {
        let (mark, problem): (Position?, String)
        switch error {
        case let .scanner(context, p, m, _), let .parser(context, p, m, _), let .composer(context, p, m, _):
            let lead = context.map { "\($0.text) (line \($0.mark.line)), " } ?? ""
            (mark, problem) = (Position(line: m.line, column: m.column), lead + p)
        case let .reader(p, offset, _, _):
            (mark, problem) = (offset.flatMap { position(atOffset: $0, in: text) }, p)
        case let .duplicatedKeysInMapping(duplicates, context):
            (mark, problem) = (Position(line: context.mark.line, column: context.mark.column), "the key(s) \(duplicates.sorted().map { "'\($0.prefix(40))'" }.joined(separator: ", ")) appear twice in one mapping")
        default:
            (mark, problem) = (nil, "\(error)")
        }
        var message = "not valid YAML: \(problem)"
        if let mark, let line = sourceLine(mark.line, in: text) {
            message += quotable(line)
                ? "\n      \(line.prefix(120))\n      \(String(repeating: " ", count: max(0, min(mark.column - 1, 120))))^"
                : " (the line is not shown: its key looks like it holds a secret)"
        }
        return PlanIssue(file: file, line: mark?.line, column: mark?.column, field: "", message: message)
    }

    /// Words in a key that mean its value may be a secret.
    static let secretWords = ["pass", "pwd", "secret", "token", "key", "credential", "auth", "cert", "private"]

    /// A line is quoted only when it is `key: value` (or `- key: value`) and names nothing secret anywhere,
    /// or is blank or a comment. A line with no key (a continued scalar, a list item) may be a secret's
    /// second half, so it is not quoted either.
    static func quotable(_ line: String) -> Bool {
        var body = Substring(line).drop { $0 == " " || $0 == "\t" }
        if body.hasPrefix("- ") { body = body.dropFirst(2).drop { $0 == " " } }
        if body.isEmpty || body.hasPrefix("#") { return true }
        guard body.contains(":") else { return false }
        // Any secret-looking word anywhere on the line, not only in its first key: a broken line such as
        // `name:  password: x` holds a second key (the fuzz target found it).
        let lower = body.lowercased()
        return !secretWords.contains { lower.contains($0) }
    }

    static func sourceLine(_ number: Int, in text: String) -> String? {
        guard number >= 1 else { return nil }
        var current = 1
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            if current == number { return String(line).filter { $0 != "\r" }.unicodeScalars.allSatisfy({ $0.value >= 0x20 || $0 == "\t" }) ? String(line) : nil }
            current += 1
        }
        return nil
    }

    struct Position { let line: Int; let column: Int }

    static func position(atOffset offset: Int, in text: String) -> Position? {
        let prefix = text.utf8.prefix(offset)
        let line = prefix.filter { $0 == 0x0A }.count + 1
        let column = prefix.reversed().prefix { $0 != 0x0A }.count + 1
        return Position(line: line, column: column)
    }
}
