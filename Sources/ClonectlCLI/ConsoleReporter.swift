import Dispatch
import Foundation
import ClonectlLedger
import ClonectlWorkflow

/// Prints workflow progress on standard error (standard output is the command's result). On a terminal: one live
/// line per step, redrawn at most every `tick` and at least once a second while the step runs, so the elapsed time
/// ticks through a 40-minute image wait; it says what the step waits for and against which limit
/// (`[sysprep] 4m02s waiting for i-0abc to stop after Sysprep: 3m12s of 60m · stopping`). An event that comes
/// within `tick` of the last draw is deferred to the next tick, never dropped. The line is kept when the step ends.
/// Piped: one plain line per event with a UTC time, and a "still waiting" line every `heartbeat` during a wait.
/// `--quiet` keeps failures only; NO_COLOR, TERM=dumb or a pipe mean no colour.
final class ConsoleReporter: WorkflowReporter, @unchecked Sendable {
    private struct Wait {
        var what: String
        var limit: Duration?
        var since: ContinuousClock.Instant
        var lastBeat: ContinuousClock.Instant
    }

    private let lock = NSLock()
    private let live: Bool
    private let color: Bool
    private let quiet: Bool
    /// JSON mode: the dry run's lines go into the result document instead of standard output.
    private let collectDryRun: Bool
    private let tick: Duration
    private let heartbeat: Duration
    private var started: [StepName: ContinuousClock.Instant] = [:]
    private var current: StepName?
    private var text = ""
    private var wait: Wait?
    private var dirty = false
    private var lastDraw = ContinuousClock.now - .seconds(10)
    /// The whole seconds last drawn: the step's clock and the wait's (they start a few milliseconds apart, so each
    /// turns over at its own moment and either one turning over redraws).
    private var lastSecond = (-1, -1)
    private var timer: DispatchSourceTimer?
    private(set) var dryRun: [(StepName, [String])] = []
    /// Where progress text goes: standard error (tests give their own).
    private let sink: @Sendable (String) -> Void

    init(quiet: Bool, format: OutputFormat = .text, environment: [String: String] = ProcessInfo.processInfo.environment,
         tick: Duration = .milliseconds(100), heartbeat: Duration = .seconds(60), terminal: Bool? = nil,
         sink: @escaping @Sendable (String) -> Void = { Console.raw($0, to: .err) }) {
        let tty = terminal ?? Console.isTerminal(.err)
        self.sink = sink
        live = tty && !quiet
        color = tty && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
        self.quiet = quiet
        collectDryRun = format == .json
        self.tick = tick
        self.heartbeat = heartbeat
        if !quiet { startTimer() }
    }

    deinit { timer?.cancel() }

    /// Stops the ticking and leaves the cursor on a fresh line; call before the result is printed.
    func finish() {
        lock.withLock {
            timer?.cancel()
            timer = nil
            if live, current != nil { sink("\n") }
            current = nil
        }
    }

    func report(_ event: WorkflowEvent) {
        let event = Self.cleaned(event)
        lock.withLock {
            switch event {
            case .stepStarted(let s):
                started[s] = .now
                current = s
                text = "started"
                wait = nil
                if live { draw() } else { line(s, "started") }
            case .stepSkipped(let s, let why):
                final(s, "skipped: \(why)")
            case .stepSucceeded(let s, let d):
                final(s, paint("done", 32) + " in \(WaitText.elapsed(d))")
            case .stepFailed(let s, let why):
                final(s, paint("FAILED", 31) + ": \(why)", force: true)
            case .progress(let s, let m):
                if live, s == current {
                    text = m
                    dirty = true
                    // Within the redraw interval the newest text waits for the next tick; it is not lost.
                    if ContinuousClock.now - lastDraw >= tick { draw() }
                } else if live {
                    // No live line of its own (a cleanup outside a step): a line that stays.
                    final(s, m)
                } else {
                    line(s, m)
                }
            case .waitStarted(let s, let what, let limit):
                wait = Wait(what: what, limit: limit, since: .now, lastBeat: .now)
                if live, s == current { draw() } else if !live {
                    line(s, "waiting for \(what)\(limit.map { " (at most \(WaitText.limit($0)))" } ?? "")")
                }
            case .waitEnded:
                wait = nil
                dirty = true
            case .dryRun(let s, let lines):
                if collectDryRun {
                    dryRun.append((s, lines))
                } else {
                    Console.out("\(s.rawValue):")
                    for l in lines { Console.out("  would: \(l)") }
                }
            case .cleanupStarted(let s):
                final(s, "cleaning up")
            case .cleanupFailed(let s, let why):
                final(s, paint("cleanup failed", 31) + ": \(why)", force: true)
            }
        }
    }

    /// The event with every outside string (guest text, AWS messages, ids) through the terminal sanitizer, before
    /// this reporter adds its own control sequences (erase line, colour).
    static func cleaned(_ event: WorkflowEvent) -> WorkflowEvent {
        let c = TerminalText.clean
        switch event {
        case .stepStarted, .stepSucceeded, .waitEnded: return event
        case .stepSkipped(let s, let why): return .stepSkipped(s, c(why))
        case .stepFailed(let s, let why): return .stepFailed(s, c(why))
        case .progress(let s, let m): return .progress(s, c(m))
        case .dryRun(let s, let lines): return .dryRun(s, lines.map(c))
        case .cleanupStarted: return event
        case .cleanupFailed(let s, let why): return .cleanupFailed(s, c(why))
        case .waitStarted(let s, let what, let limit): return .waitStarted(s, c(what), limit)
        }
    }

    // MARK: - Drawing (called with the lock held)

    private func startTimer() {
        let t = DispatchSource.makeTimerSource(queue: .global(qos: .utility))
        let interval = live ? tick : .seconds(1)
        let ns = Int(interval.components.seconds * 1_000_000_000 + interval.components.attoseconds / 1_000_000_000)
        t.schedule(deadline: .now() + .nanoseconds(ns), repeating: .nanoseconds(ns))
        t.setEventHandler { [weak self] in self?.onTick() }
        t.resume()
        timer = t
    }

    private func onTick() {
        lock.withLock {
            guard let step = current else { return }
            if live {
                if dirty || seconds(step) != lastSecond { draw() }
            } else if var w = wait, ContinuousClock.now - w.lastBeat >= heartbeat {
                w.lastBeat = .now
                wait = w
                line(step, "still waiting for \(w.what): \(waitClock(w))")
            }
        }
    }

    /// The live line of the current step, redrawn in place and cut to the terminal's width (a wrapped line could
    /// not be redrawn).
    private func draw() {
        guard let step = current else { return }
        // One reading of the clock for the whole line, so what is drawn is what `lastSecond` remembers.
        let now = ContinuousClock.now
        let elapsed = now - (started[step] ?? now)
        var body = "[\(step.rawValue)] \(WaitText.elapsed(elapsed)) "
        if let w = wait {
            body += "waiting for \(w.what): \(waitClock(w, now))"
            if !text.isEmpty, text != "started" { body += " · " + text }
        } else {
            body += text
        }
        let width = max(20, Console.columns(.err) - 1)
        sink("\r\u{1B}[2K" + String(body.prefix(width)))
        lastDraw = now
        lastSecond = seconds(step, now)
        dirty = false
    }

    private func seconds(_ step: StepName, _ now: ContinuousClock.Instant = .now) -> (Int, Int) {
        (Int((now - (started[step] ?? now)).components.seconds),
         wait.map { Int((now - $0.since).components.seconds) } ?? -1)
    }

    private func waitClock(_ w: Wait, _ now: ContinuousClock.Instant = .now) -> String {
        WaitText.elapsed(now - w.since) + (w.limit.map { " of \(WaitText.limit($0))" } ?? "")
    }

    /// A line that stays: the end of a step (it carries its own time), a failure, a cleanup.
    private func final(_ step: StepName, _ message: String, force: Bool = false) {
        if quiet && !force { return }
        if live {
            sink("\r\u{1B}[2K[\(step.rawValue)] \(message)\n")
            if step == current { current = nil; wait = nil }
        } else {
            line(step, message, force: force)
            if step == current { current = nil; wait = nil }
        }
    }

    private func line(_ step: StepName, _ message: String, force: Bool = false) {
        if quiet && !force { return }
        sink("\(Self.stamp()) \(step.rawValue): \(message)\n")
    }

    private func paint(_ s: String, _ code: Int) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }

    static func human(_ d: Duration) -> String { WaitText.elapsed(d) }

    static func stamp() -> String { UTCTimestamp.format(Date(), fractional: false) }
}
