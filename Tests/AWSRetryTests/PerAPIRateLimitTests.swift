import Testing
@testable import AWSRetry

/// Adaptive mode keeps one rate limiter per API: a throttled API is paced, the APIs beside it are not, and the
/// paced rate grows again once the throttling stops.
@Suite struct PerAPIRateLimitTests {
    private static let throttle = AttemptFailure.service(status: 400, code: "ThrottlingException")

    /// One call of `operation` that the service throttles once, then serves.
    private func throttledOnce(_ strategy: RetryStrategy, _ operation: String) async throws {
        var token = try await strategy.acquireInitialToken(partition: "ssm", operation: operation)
        guard case .retry = strategy.refreshTokenForRetry(&token, failure: Self.throttle) else {
            Issue.record("a throttle is retried")
            return
        }
        strategy.recordSuccess(token)
    }

    @Test func aThrottledAPIIsPacedAndItsNeighboursAreNot() async throws {
        let clock = ManualRetryClock()
        let strategy = try RetryStrategy(configuration: RetryConfiguration(mode: .adaptive), clock: clock, random: .fixed(0.5))
        // Ten quick successful polls, then SendCommand is throttled.
        for _ in 0..<10 {
            let token = try await strategy.acquireInitialToken(partition: "ssm", operation: "ListCommandInvocations")
            clock.advance(by: 0.05)
            strategy.recordSuccess(token)
        }
        try await throttledOnce(strategy, "SendCommand")
        let stats = strategy.statistics(partition: "ssm")
        #expect(stats.throttles == 1)
        #expect(stats.throttlesByOperation == ["SendCommand": 1])
        #expect(stats.fillRateByOperation["SendCommand"] != nil, "SendCommand is paced after its throttle")
        #expect(stats.fillRateByOperation["ListCommandInvocations"] == nil, "the polls beside it are not")
        #expect(stats.fillRate == nil, "no partition-wide pacing when calls name their API")

        // The unpaced API goes at once, however many calls: no waits counted.
        let waitsBefore = strategy.statistics(partition: "ssm").rateLimiterWaits
        for _ in 0..<20 {
            let token = try await strategy.acquireInitialToken(partition: "ssm", operation: "ListCommandInvocations")
            strategy.recordSuccess(token)
        }
        #expect(strategy.statistics(partition: "ssm").rateLimiterWaits == waitsBefore)
    }

    @Test func thePacedRateRecoversAfterTheThrottlingStops() async throws {
        let clock = ManualRetryClock()
        let strategy = try RetryStrategy(configuration: RetryConfiguration(mode: .adaptive), clock: clock, random: .fixed(0.5))
        // A steady 20 calls/s, throttled once after two seconds.
        for _ in 0..<40 {
            let token = try await strategy.acquireInitialToken(partition: "ssm", operation: "SendCommand")
            clock.advance(by: 0.05)
            strategy.recordSuccess(token)
        }
        try await throttledOnce(strategy, "SendCommand")
        let afterThrottle = try #require(strategy.statistics(partition: "ssm").fillRateByOperation["SendCommand"])
        // Keep sending as fast as the limiter lets us, with no more throttles, for 20 s of manual time.
        let end = clock.now() + 20
        while clock.now() < end {
            let token = try await strategy.acquireInitialToken(partition: "ssm", operation: "SendCommand")
            clock.advance(by: 0.01)
            strategy.recordSuccess(token)
        }
        let recovered = try #require(strategy.statistics(partition: "ssm").fillRateByOperation["SendCommand"])
        #expect(recovered > afterThrottle * 1.5, "rate after the throttle \(afterThrottle)/s, 20 s later \(recovered)/s")
    }

    @Test func standardModeNeverPaces() async throws {
        let strategy = try RetryStrategy(configuration: RetryConfiguration(mode: .standard), clock: ManualRetryClock())
        try await throttledOnce(strategy, "SendCommand")
        let stats = strategy.statistics(partition: "ssm")
        #expect(stats.throttlesByOperation == ["SendCommand": 1])
        #expect(stats.fillRateByOperation.isEmpty)
    }
}
