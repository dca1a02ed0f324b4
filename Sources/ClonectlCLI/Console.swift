import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one place where text reaches the terminal. Standard output carries a command's result (its text, or its one
/// JSON document); standard error carries progress, notes and errors. Whatever is done to untrusted text on its way
/// to a terminal (guest output, AWS messages) is done here, once, for every command.
enum Console {
    enum Stream { case out, err }

    /// Writes `text` through the terminal sanitizer (`TerminalText.clean`: no outside string can drive the terminal);
    /// the caller adds the line end. Unbuffered, so progress and results interleave in order.
    static func write(_ text: String, to stream: Stream) {
        raw(TerminalText.clean(text), to: stream)
    }

    /// Writes `text` as it is: only for text whose every outside part was already cleaned and that carries this
    /// program's own control sequences (the live line's erase and colour codes, in ConsoleReporter).
    static func raw(_ text: String, to stream: Stream) {
        let handle = stream == .out ? FileHandle.standardOutput : FileHandle.standardError
        handle.write(Data(text.utf8))
    }

    /// A line of a command's text result (standard output).
    static func out(_ line: String) { write(line + "\n", to: .out) }

    /// A line of progress, a note or an error (standard error).
    static func err(_ line: String) { write(line + "\n", to: .err) }

    static func isTerminal(_ stream: Stream) -> Bool {
        isatty(stream == .out ? STDOUT_FILENO : STDERR_FILENO) == 1
    }

    /// The width of the terminal on `stream`, or 100 when it is not one.
    static func columns(_ stream: Stream) -> Int {
        var w = winsize()
        let fd = stream == .out ? STDOUT_FILENO : STDERR_FILENO
        return ioctl(fd, UInt(TIOCGWINSZ), &w) == 0 && w.ws_col > 0 ? Int(w.ws_col) : 100
    }
}
