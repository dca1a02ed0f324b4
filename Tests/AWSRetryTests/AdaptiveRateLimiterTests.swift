import Foundation
import Testing
@testable import AWSRetry

/// A clock whose sleeps last until the task is cancelled: proves waits are cancellable without
/// timing anything.
private final class NeverWakingClock: RetryClock {
    func now() -> Double { 0 }
    func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: .seconds(3600))
    }
}

@Suite struct AdaptiveRateLimiterTests {
    /// Responses at 10/s (t = 0.1, 0.2, ...), the 5th one throttled, as in the golden run.
    private func drive(_ limiter: inout ClientRateLimiter, through last: Int, record: (Int, ClientRateLimiter) -> Void) {
        for index in 1...last {
            limiter.update(throttled: index == 5, now: Double(index) * 0.1)
            record(index, limiter)
        }
    }

    @Test func matchesBotocoreGoldenRun() {
        // Produced by botocore 1.44.8's own ClientRateLimiter/RateClocker/TokenBucket/CubicCalculator
        // with a fake clock and the same response sequence: (index, measured, fill rate, capacity).
        let golden: [Int: (measured: Double, fill: Double, capacity: Double)] = [
            4: (0, 0.5, 0.25),
            5: (8.0, 5.6, 0.3),
            6: (8.0, 5.974825822753369, 0.8599999999999999),
            10: (9.6, 7.086020171487134, 3.434814928525398),
            20: (9.984, 7.987243447363551, 7.970970143801781),
            23: (9.984, 7.999997992681035, 7.999357371803178),
            30: (9.99936, 8.127377300442832, 8.079212939160776),
            35: (9.999872, 8.662035693433548, 8.507925803291347),
            40: (9.9999744, 9.90642173072498, 9.586366311722635),
        ]
        var limiter = ClientRateLimiter(now: 0)
        var checked = 0
        drive(&limiter, through: 40) { index, limiter in
            guard let expected = golden[index] else { return }
            checked += 1
            #expect(abs(limiter.measuredRate - expected.measured) < 1e-9, "measured rate at response \(index)")
            #expect(abs(limiter.bucket.fillRate - expected.fill) < 1e-9, "fill rate at response \(index)")
            #expect(abs(limiter.bucket.capacity - expected.capacity) < 1e-9, "capacity at response \(index)")
            #expect(limiter.isEnabled == (index >= 5))
        }
        #expect(checked == golden.count)
    }

    @Test func throttleDropsToSeventyPercentThenCubicGrowsBack() throws {
        var limiter = ClientRateLimiter(now: 0)
        drive(&limiter, through: 5) { _, _ in }
        // Measured rate at the throttle: first half-second bucket held 5 responses = 10/s, smoothed
        // from 0: 0.8 * 10 = 8. New rate = beta * 8.
        #expect(limiter.measuredRate == 8)
        let afterThrottle = try #require(limiter.fillRate, "the throttle must enable pacing")
        #expect(abs(afterThrottle - 0.7 * 8) < 1e-12)

        // CUBIC from the published formula: W(t) = 0.4 (t - K)^3 + 8, K = cbrt(8 * 0.3 / 0.4).
        let k = cbrt(8 * (1 - 0.7) / 0.4)
        #expect(abs(limiter.cubic.zeroPoint - k) < 1e-12)
        let curve = { (seconds: Double) in 0.4 * pow(seconds - k, 3) + 8 }
        #expect(abs(limiter.cubic.successReceived(at: 0.5 + k) - 8) < 1e-12, "back at W_max after K seconds")
        #expect(abs(limiter.cubic.successReceived(at: 0.5 + k + 1) - 8.4) < 1e-12)

        var previous = afterThrottle
        for index in 6...40 {
            let now = Double(index) * 0.1
            limiter.update(throttled: false, now: now)
            let expected = min(curve(now - 0.5), 2 * limiter.measuredRate)
            let rate = try #require(limiter.fillRate)
            #expect(abs(rate - expected) < 1e-9, "fill rate at t=\(now)")
            #expect(rate >= previous - 1e-12, "the rate never falls between throttles")
            previous = rate
        }
        #expect(previous > 9.9, "3.5 s after the throttle the curve has probed past the old maximum")
    }

    @Test func rateNeverFallsBelowTheMinimum() {
        var limiter = ClientRateLimiter(now: 0)
        limiter.update(throttled: true, now: 0.1)  // throttled before any rate was measured
        #expect(limiter.fillRate == 0.5)
        #expect(limiter.bucket.maxCapacity == 1)
    }

    @Test func bucketComputesTheWaitAndRefillsAtTheFillRate() {
        var bucket = RateLimitBucket(maxRate: 4, now: 10)
        let atStart = bucket.tryAcquire(now: 10)
        #expect(atStart == 0.25, "empty at start: one token is 1/4 s away")
        let afterQuarter = bucket.tryAcquire(now: 10.25)
        #expect(afterQuarter == nil)
        let muchLater = bucket.tryAcquire(now: 100)
        #expect(muchLater == nil, "capacity is capped at one second's worth")
        #expect(bucket.capacity == 3)
    }

    @Test func acquireWaitsOnTheInjectedClockAfterAThrottle() async throws {
        let clock = ManualRetryClock()
        let strategy = try RetryStrategy(configuration: RetryConfiguration(mode: .adaptive), clock: clock, random: .fixed(0))
        for index in 1...5 {
            clock.set(to: Double(index) * 0.1)
            var token = try await strategy.acquireInitialToken(partition: "ec2")
            if index < 5 {
                strategy.recordSuccess(token)
            } else {
                _ = strategy.refreshTokenForRetry(&token, failure: .service(status: 503, code: "RequestLimitExceeded"))
            }
        }
        #expect(clock.sleeps.isEmpty, "nothing is paced before the first throttle")
        let fillRate = try #require(strategy.statistics(partition: "ec2").fillRate, "the throttle must enable pacing")
        #expect(abs(fillRate - 5.6) < 1e-12)

        // The limiter was created at first use (t = 0.1) and filled at the 0.5/s floor until the
        // throttle at t = 0.5: 0.2 tokens. At 5.6 tokens/s the next send waits (1 - 0.2) / 5.6 = 1/7 s.
        _ = try await strategy.acquireInitialToken(partition: "ec2")
        try #require(clock.sleeps.count == 1)
        #expect(abs(clock.sleeps[0].retrySeconds - 0.8 / 5.6) < 1e-6)
        let stats = strategy.statistics(partition: "ec2")
        #expect(stats.rateLimiterWaits == 1)
        #expect(abs(stats.rateLimiterWaitSeconds - 0.8 / 5.6) < 1e-9)
        #expect(stats.description.contains("fill rate 5.60/s"))

        // Back-to-back sends are spaced at 1/5.6 s each.
        _ = try await strategy.acquireInitialToken(partition: "ec2")
        try #require(clock.sleeps.count == 2)
        #expect(abs(clock.sleeps[1].retrySeconds - 1 / 5.6) < 1e-6)
        // Other services are not slowed by EC2's throttling.
        _ = try await strategy.acquireInitialToken(partition: "ssm")
        #expect(clock.sleeps.count == 2)
    }

    @Test func standardModeNeverPaces() async throws {
        let clock = ManualRetryClock()
        let strategy = try RetryStrategy(clock: clock, random: .fixed(0))
        for _ in 0..<20 {
            var token = try await strategy.acquireInitialToken(partition: "ec2")
            _ = strategy.refreshTokenForRetry(&token, failure: .service(status: 400, code: "Throttling"))
        }
        #expect(clock.sleeps.isEmpty)
        #expect(strategy.statistics(partition: "ec2").fillRate == nil)
        #expect(strategy.statistics(partition: "ec2").measuredRate == nil)
    }

    @Test func waitingForCapacityIsCancellable() async throws {
        let strategy = try RetryStrategy(configuration: RetryConfiguration(mode: .adaptive), clock: NeverWakingClock())
        var token = try await strategy.acquireInitialToken(partition: "ssm")
        _ = strategy.refreshTokenForRetry(&token, failure: .service(status: 429, code: nil))
        // The bucket is now empty at 0.5/s and the clock never moves: only cancellation ends the wait.
        let waiter = Task { try await strategy.acquireInitialToken(partition: "ssm") }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { _ = try await waiter.value }
    }
}
