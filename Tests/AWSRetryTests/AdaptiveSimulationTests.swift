import Testing
@testable import AWSRetry

/// A service that accepts at most `limit` requests in any sliding second and throttles the rest.
private struct SlidingWindowService {
    let limit: Int
    var accepted: [Double] = []

    mutating func handle(at now: Double) -> Bool {
        accepted.removeAll { $0 <= now - 1 }
        guard accepted.count < limit else { return false }
        accepted.append(now)
        return true
    }
}

private struct SimulationResult {
    var sent = 0, accepted = 0, throttled = 0, surfaced = 0
    var elapsed = 0.0
    var fillRate: Double?
}

/// Closed loop on the manual clock: one worker sends as fast as the strategy lets it, each request
/// takes 20 ms (50/s unpaced) and the service takes 10/s. Deterministic: no real time passes.
private func simulate(mode: RetryConfiguration.Mode, operations: Int) async throws -> SimulationResult {
    let clock = ManualRetryClock()
    let random = RandomSource.fixed(0.5)  // the jitter's midpoint: deterministic and representative
    let strategy = try RetryStrategy(configuration: RetryConfiguration(mode: mode), clock: clock, random: random)
    var service = SlidingWindowService(limit: 10)
    var result = SimulationResult()
    for _ in 0..<operations {
        do {
            _ = try await strategy.run(partition: "ec2", describe: { ($0 as? Throttled)?.failure }) { _ in
                clock.advance(by: 0.02)
                result.sent += 1
                guard service.handle(at: clock.now()) else {
                    result.throttled += 1
                    throw Throttled()
                }
                result.accepted += 1
            }
        } catch {
            result.surfaced += 1
        }
    }
    result.elapsed = clock.now()
    result.fillRate = strategy.statistics(partition: "ec2").fillRate
    return result
}

private struct Throttled: Error {
    let failure = AttemptFailure.service(status: 503, code: "RequestLimitExceeded")
}

@Suite struct AdaptiveSimulationTests {
    @Test func adaptiveModeThrottlesLessThanStandardAgainstA10PerSecondService() async throws {
        let standard = try await simulate(mode: .standard, operations: 600)
        let adaptive = try await simulate(mode: .adaptive, operations: 600)
        for (name, r) in [("standard", standard), ("adaptive", adaptive)] {
            print("""
                [retry-sim] \(name): \(r.sent) sends, \(r.accepted) accepted, \(r.throttled) throttled \
                (\(r.throttled * 100 / max(r.sent, 1))%), \(r.surfaced) surfaced, \
                \(Double(r.accepted) / r.elapsed) accepted/s over \(r.elapsed) s, fill rate \(r.fillRate.map { "\($0)" } ?? "-")
                """)
        }
        #expect(standard.accepted + standard.surfaced == 600)
        #expect(adaptive.accepted + adaptive.surfaced == 600)
        // The service never accepts more than 10/s, so neither can the client.
        #expect(Double(adaptive.accepted) / adaptive.elapsed <= 10.5)
        // Pacing is the point of adaptive mode: far fewer throttled sends and fewer surfaced errors.
        #expect(adaptive.throttled * 2 < standard.throttled)
        #expect(adaptive.surfaced <= standard.surfaced)
        let fill = try #require(adaptive.fillRate)
        #expect(fill > 2 && fill < 20, "the pacing rate settles near the service's 10/s")
    }
}
