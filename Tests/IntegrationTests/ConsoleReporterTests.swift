import Foundation
import Synchronization
import Testing
import ClonectlWorkflow
@testable import ClonectlCLI

/// The live line as a terminal gets it: ticking during a wait, against its limit, and no event lost to the redraw
/// interval. (tests/test_live_line.py checks the same through a pseudo-terminal on a real run.)
@Suite struct ConsoleReporterTests {
    final class Screen: Sendable {
        let writes = Mutex<[String]>([])
        func add(_ s: String) { writes.withLock { $0.append(s) } }
        var all: [String] { writes.withLock { $0 } }
        /// The text of each redraw of the live line (what follows the last erase-line).
        var draws: [String] { all.filter { $0.hasPrefix("\r\u{1B}[2K") }.map { String($0.dropFirst(5)) } }
    }

    static func live(_ screen: Screen, tick: Duration = .milliseconds(100)) -> ConsoleReporter {
        ConsoleReporter(quiet: false, environment: ["NO_COLOR": "1"], tick: tick, terminal: true, sink: { screen.add($0) })
    }

    @Test func theLineTicksAtLeastOnceASecondAndSaysWhatItWaitsForAgainstWhichLimit() async throws {
        let screen = Screen()
        let reporter = Self.live(screen)
        reporter.report(.stepStarted(.sysprep))
        reporter.report(.waitStarted(.sysprep, "i-0abc to stop after Sysprep", .seconds(3600)))
        try await Task.sleep(for: .milliseconds(3300))
        reporter.finish()
        let waits = screen.draws.filter { $0.contains("waiting for i-0abc to stop after Sysprep: ") && $0.contains(" of 1h") }
        let seconds = Set(waits.compactMap { $0.split(separator: ": ").last?.split(separator: " ").first.map(String.init) })
        #expect(seconds.isSuperset(of: ["0s", "1s", "2s", "3s"]), "one redraw per second at least: \(waits)")
        #expect(screen.draws.allSatisfy { $0.hasPrefix("[sysprep] ") })
        // No more than one draw per tick (plus the event-driven ones): the line is not redrawn in a busy loop.
        #expect(screen.draws.count < 3300 / 100 + 10, "\(screen.draws.count) draws")
    }

    @Test func anEventInsideTheRedrawIntervalIsDeferredNotDropped() async throws {
        let screen = Screen()
        // A long tick, so "second" surely arrives inside the interval after "first" was drawn.
        let reporter = Self.live(screen, tick: .milliseconds(400))
        reporter.report(.stepStarted(.imageSource))
        reporter.report(.progress(.imageSource, "first"))
        reporter.report(.progress(.imageSource, "second"))
        #expect(!screen.draws.contains { $0.hasSuffix("second") }, "not drawn yet: inside the interval")
        try await Task.sleep(for: .milliseconds(1000))
        #expect(screen.draws.last?.hasSuffix("second") == true, "drawn at the next tick: \(screen.draws)")
        reporter.report(.stepSucceeded(.imageSource, .seconds(1)))
        reporter.finish()
        #expect(screen.all.last?.contains("[image-source] done in 1s") == true)
        // Progress of a step without a live line (cleanup outside a step) stays on screen as a line of its own.
        reporter.report(.progress(.cleanup, "terminated the work copy i-0abc"))
        #expect(screen.all.last == "\r\u{1B}[2K[cleanup] terminated the work copy i-0abc\n")
    }

    @Test func piped_OneLinePerEventAndAWaitSaysItsLimit() async throws {
        let screen = Screen()
        let reporter = ConsoleReporter(quiet: false, environment: [:], heartbeat: .milliseconds(500), terminal: false,
                                       sink: { screen.add($0) })
        reporter.report(.stepStarted(.masterImage))
        reporter.report(.waitStarted(.masterImage, "master image ami-1 to be available", .seconds(3 * 3600)))
        try await Task.sleep(for: .milliseconds(2300))
        reporter.report(.stepSucceeded(.masterImage, .seconds(2)))
        reporter.finish()
        let lines = screen.all
        #expect(lines.allSatisfy { $0.hasSuffix("\n") && !$0.contains("\u{1B}") }, "plain lines: \(lines)")
        #expect(lines.contains { $0.contains("master-image: waiting for master image ami-1 to be available (at most 3h)") })
        #expect(lines.contains { $0.contains("still waiting for master image ami-1 to be available: ") && $0.contains(" of 3h") },
                "a heartbeat line during a long wait: \(lines)")
    }
}
