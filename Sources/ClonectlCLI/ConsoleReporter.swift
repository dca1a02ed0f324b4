import Foundation
import ClonectlLedger
import ClonectlWorkflow
#if canImport(Glibc)
import Glibc
#endif

/// Prints workflow progress: on a terminal, one live line per step that is redrawn (at most 10 times a second) and
/// kept when the step ends; when piped, one plain line per event with a UTC time. `--quiet` keeps failures only;
/// NO_COLOR (or a pipe) means no colour.
final class ConsoleReporter: WorkflowReporter, @unchecked Sendable {
    private let lock = NSLock()
    private let live: Bool
    private let color: Bool
    private let quiet: Bool
    private var started: [StepName: ContinuousClock.Instant] = [:]
    private var lastDraw = ContinuousClock.now - .seconds(1)

    init(quiet: Bool, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let tty = isatty(STDOUT_FILENO) == 1
        live = tty && !quiet
        color = tty && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
        self.quiet = quiet
    }

    func report(_ event: WorkflowEvent) {
        lock.withLock {
            switch event {
            case .stepStarted(let s):
                started[s] = .now
                line(s, "started", final: !live)
            case .stepSkipped(let s, let why):
                line(s, "skipped: \(TerminalText.clean(why))", final: true)
            case .stepSucceeded(let s, let d):
                line(s, paint("done", 32) + " in \(Self.human(d))", final: true)
            case .stepFailed(let s, let why):
                line(s, paint("FAILED", 31) + ": \(TerminalText.clean(why))", final: true, force: true)
            case .progress(let s, let m):
                line(s, TerminalText.clean(m), final: !live, throttle: true)
            case .dryRun(let s, let lines):
                print("\(s.rawValue):")
                for l in lines { print("  would: \(l)") }
            case .cleanupStarted(let s):
                line(s, "cleaning up", final: true)
            case .cleanupFailed(let s, let why):
                line(s, paint("cleanup failed", 31) + ": \(TerminalText.clean(why))", final: true, force: true)
            }
        }
    }

    /// `text` is already clean: outside strings pass through `TerminalText.clean` where events are turned into
    /// words above, before this reporter adds its own colour codes.
    private func line(_ step: StepName, _ text: String, final: Bool, force: Bool = false, throttle: Bool = false) {
        if quiet && !force { return }
        // A final line carries its own time ("done in 3s"); a live one shows how long the step has been running.
        let elapsed = final ? "" : started[step].map { Self.human(.now - $0) } ?? ""
        if live {
            if throttle, !final, ContinuousClock.now - lastDraw < .milliseconds(100) { return }
            lastDraw = .now
            let body = "[\(step.rawValue)] \(elapsed.isEmpty ? "" : elapsed + " ")\(text)"
            let width = Self.columns()
            FileHandle.standardOutput.write(Data(("\r\u{1B}[2K" + String(body.prefix(max(20, width - 1)))
                                                  + (final ? "\n" : "")).utf8))
        } else {
            Swift.print("\(Self.stamp()) \(step.rawValue): \(text)")
        }
    }

    private func paint(_ s: String, _ code: Int) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }

    static func human(_ d: Duration) -> String {
        let s = Int(d.components.seconds)
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }

    static func stamp() -> String { UTCTimestamp.format(Date(), fractional: false) }

    static func columns() -> Int {
        var w = winsize()
        return ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &w) == 0 && w.ws_col > 0 ? Int(w.ws_col) : 100
    }
}
