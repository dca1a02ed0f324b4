import Foundation

/// The one sanitizer for text that reaches the terminal.
///
/// Guest output (envelope errors, log tails, facts, whole command outputs), AWS error messages, ledger contents and
/// file names are not ours: an ANSI escape in any of them could rewrite the screen, hide a line, retitle the window
/// or (on some terminals) answer back keystrokes. Every C0 control except tab and newline (and the `\r` of a `\r\n`),
/// DEL, every C1 control and the bidirectional overrides are written as `\u001b`-style escapes: readable, and
/// still valid inside a JSON string, so JSON output keeps parsing to the same values.
public enum TerminalText {
    public static func clean(_ text: String) -> String {
        // Fast path: most lines are plain.
        if !text.unicodeScalars.contains(where: needsEscape) { return text }
        var out = String.UnicodeScalarView()
        let scalars = Array(text.unicodeScalars)
        for (i, s) in scalars.enumerated() {
            if s == "\r", i + 1 < scalars.count, scalars[i + 1] == "\n" { out.append(s); continue }
            if needsEscape(s) {
                out.append(contentsOf: String(format: "\\u%04x", s.value).unicodeScalars)
            } else {
                out.append(s)
            }
        }
        return String(out)
    }

    static func needsEscape(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09, 0x0A: return false
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x202A...0x202E, 0x2066...0x2069: return true  // bidi embeddings, overrides, isolates
        default: return false
        }
    }

    /// Standard output, cleaned.
    public static func print(_ text: String, terminator: String = "\n") {
        Swift.print(clean(text), terminator: terminator)
    }

    /// Standard error, cleaned; the text is written as given (add the newline yourself).
    public static func writeError(_ text: String) {
        FileHandle.standardError.write(Data(clean(text).utf8))
    }

    /// A warning line on standard error.
    public static func warn(_ text: String) {
        writeError("warning: \(text)\n")
    }
}

/// Every `print` in this module goes through the sanitizer: a command cannot forget it.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    TerminalText.print(items.map { "\($0)" }.joined(separator: separator), terminator: terminator)
}
