import Testing
@testable import AWSRetry

@Suite struct BackoffTests {
    let standard = BackoffSchedule.standard

    @Test func fullJitterBoundsWithFixedRandom() {
        for retry in 0..<8 {
            #expect(standard.delay(retryIndex: retry, unit: 0) == .zero)
            #expect(standard.delay(retryIndex: retry, unit: 1) == standard.cap(retryIndex: retry))
        }
        #expect(standard.delay(retryIndex: 2, unit: 0.5) == .seconds(2))
    }

    @Test func capDoublesThenStopsAtMax() {
        let caps = (0..<7).map { standard.cap(retryIndex: $0) }
        #expect(caps == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(20), .seconds(20)])
        #expect(standard.cap(retryIndex: 1000) == .seconds(20))  // no overflow for absurd attempt counts
        #expect(BackoffSchedule.eventualConsistency.cap(retryIndex: 0) == .milliseconds(500))
        #expect(BackoffSchedule.eventualConsistency.cap(retryIndex: 3) == .seconds(4))
        #expect(BackoffSchedule.eventualConsistency.cap(retryIndex: 4) == .seconds(5))
    }

    @Test func jitteredDelaysStayWithinTheWindow() {
        let random = RandomSource.system
        for retry in 0..<10 {
            let delay = standard.delay(retryIndex: retry, unit: random.unit())
            #expect(delay >= .zero && delay <= standard.cap(retryIndex: retry))
        }
    }

    @Test func randomSourceClampsBadValues() {
        #expect(RandomSource.fixed(7).unit() == 1)
        #expect(RandomSource.fixed(-3).unit() == 0)
        #expect(RandomSource.fixed(.nan).unit() == 0)
        #expect(RandomSource.fixed(0.25).unit() == 0.25)
    }

    @Test func retryAfterIsHonouredWithinFiveSecondsOfOurDelay() {
        #expect(BackoffSchedule.applyingRetryAfter(nil, to: .seconds(1)) == .seconds(1))
        #expect(BackoffSchedule.applyingRetryAfter(.seconds(3), to: .seconds(1)) == .seconds(3))
        #expect(BackoffSchedule.applyingRetryAfter(.seconds(60), to: .seconds(1)) == .seconds(6))
        #expect(BackoffSchedule.applyingRetryAfter(.milliseconds(10), to: .seconds(1)) == .seconds(1))
    }

    @Test func durationSecondsRoundTrip() {
        #expect(Duration.retrySeconds(1.5) == .milliseconds(1500))
        #expect(Duration.retrySeconds(-1) == .zero)
        #expect(Duration.retrySeconds(.infinity) == .zero)
        #expect(Duration.milliseconds(250).retrySeconds == 0.25)
    }
}
