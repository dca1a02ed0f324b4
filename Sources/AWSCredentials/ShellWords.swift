/// Splits a command line the way the AWS CLI splits `credential_process` (botocore's `compat_shell_split`, which is
/// Python's `shlex.split` on POSIX): words separated by blanks; `'...'` literal; `"..."` where only `\"` and `\\`
/// are escapes; outside quotes `\x` is `x`. No variable, `~` or glob expansion: nothing runs a shell.
enum ShellWords {
    struct SplitError: Error, Equatable {
        let reason: String
    }

    static func split(_ line: String) throws(SplitError) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var chars = line.makeIterator()
        while let c = chars.next() {
            switch c {
            case " ", "\t", "\n", "\r":
                if inWord { words.append(current); current = ""; inWord = false }
            case "'":
                inWord = true
                while true {
                    guard let q = chars.next() else { throw SplitError(reason: "a ' quote is not closed") }
                    if q == "'" { break }
                    current.append(q)
                }
            case "\"":
                inWord = true
                while true {
                    guard let q = chars.next() else { throw SplitError(reason: "a \" quote is not closed") }
                    if q == "\"" { break }
                    if q == "\\" {
                        guard let next = chars.next() else { throw SplitError(reason: "a \" quote is not closed") }
                        if next != "\"" && next != "\\" { current.append("\\") }
                        current.append(next)
                        continue
                    }
                    current.append(q)
                }
            case "\\":
                inWord = true
                guard let next = chars.next() else { throw SplitError(reason: "it ends with a lone \\") }
                current.append(next)
            default:
                inWord = true
                current.append(c)
            }
        }
        if inWord { words.append(current) }
        return words
    }

    /// `NAME=value` as a first word: a shell would set a variable; run without one it names a program nobody has.
    static func isAssignment(_ word: String) -> Bool {
        guard let eq = word.firstIndex(of: "="), eq != word.startIndex else { return false }
        let name = word[..<eq]
        return name.first.map { $0 == "_" || $0.isASCII && $0.isLetter } == true
            && name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }
}
