import AWSHTTP
import Foundation
import Testing

/// A measurement, not a speed check: prints wall time and connections for 2,000 requests over 50 tasks.
/// Opt-in (CLONECTL_HTTP_BENCH=1) because it loads the shared CPUs for a few seconds.
@Suite(.timeLimit(.minutes(3)))
struct CurlThroughputBenchmark {
    static let enabled = ProcessInfo.processInfo.environment["CLONECTL_HTTP_BENCH"] == "1"

    @Test(.enabled(if: enabled, "set CLONECTL_HTTP_BENCH=1 to run the throughput measurement"))
    func twoThousandRequestsOverFiftyTasks() async throws {
        let server = try FaultServer()
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        let total = 2000, workers = 50
        let cpuStart = Self.processCPUSeconds()
        let start = ContinuousClock.now
        let ok = try await withThrowingTaskGroup(of: Int.self) { group in
            for w in 0..<workers {
                group.addTask {
                    var ok = 0
                    for i in stride(from: w, to: total, by: workers) {
                        let r = try await transport.execute(
                            HTTPRequest(method: "POST", url: server.url("/bench/\(i)"), body: Array("{}".utf8)),
                            options: HTTPRequestOptions())
                        if r.status == 200 { ok += 1 }
                    }
                    return ok
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = seconds(since: start)
        let cpu = Self.processCPUSeconds() - cpuStart
        let stats = try await server.stats()
        // The server also counts the control connection and ManagedProcess's readiness probe.
        print(String(format: "HTTP benchmark: %d requests, %d tasks, %.2f s wall, %.0f req/s, %.2f s client CPU, "
                     + "%d connections accepted (2 of them control/probe)",
                     total, workers, elapsed, Double(total) / elapsed, cpu, stats.connections))
        #expect(ok == total)
        #expect(stats.requests == total)
    }

    /// User + system CPU of this test process (the server is a separate process).
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func secs(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return secs(usage.ru_utime) + secs(usage.ru_stime)
    }
}
