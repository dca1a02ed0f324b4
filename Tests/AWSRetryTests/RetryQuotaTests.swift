import Testing
@testable import AWSRetry

@Suite struct RetryQuotaTests {
    @Test func quotaDrainsRefusesAndCapsReleases() {
        var quota = RetryQuota(costs: RetryQuota.Costs(initialCapacity: 12))
        let first = quota.acquire(5), second = quota.acquire(5)
        #expect(first && second)
        #expect(quota.available == 2)
        let third = quota.acquire(5)
        #expect(!third)
        #expect(quota.available == 2, "a refused acquire takes nothing")
        quota.release(100)
        #expect(quota.available == 12, "never above the initial capacity")
        _ = quota.acquire(10)
        quota.recordSuccess(lastRetryCost: nil)
        #expect(quota.available == 3)
        quota.recordSuccess(lastRetryCost: 5)
        #expect(quota.available == 8)
    }

    @Test func transportFailuresCostMore() {
        let costs = RetryQuota.Costs.standard
        #expect(costs.cost(of: .transport(.timeout)) == 10)
        #expect(costs.cost(of: .transport(.connect)) == 10)
        #expect(costs.cost(of: .service(status: 503, code: nil)) == 5)
        #expect(costs.cost(of: .service(status: 400, code: "Throttling")) == 5)
    }

    @Test func strategyDrainsTheQuotaAndRefusesWhenEmpty() async throws {
        let strategy = try RetryStrategy(clock: ManualRetryClock(), random: .fixed(0))
        // 100 operations each retried once after a 503: 100 x 5 = the whole 500.
        var tokens: [RetryToken] = []
        for _ in 0..<100 {
            var token = try await strategy.acquireInitialToken(partition: "ec2")
            #expect(strategy.refreshTokenForRetry(&token, failure: .service(status: 503, code: nil)) == .retry(after: .zero, kind: .server))
            tokens.append(token)
        }
        #expect(strategy.statistics(partition: "ec2").availableQuota == 0)

        var starved = try await strategy.acquireInitialToken(partition: "ec2")
        let decision = strategy.refreshTokenForRetry(&starved, failure: .service(status: 500, code: "InternalError"))
        #expect(decision == .giveUp(.retryQuotaExhausted(available: 0, cost: 5)))
        #expect(starved.attempt == 1)

        // Another partition has its own quota.
        var other = try await strategy.acquireInitialToken(partition: "ssm")
        #expect(strategy.refreshTokenForRetry(&other, failure: .service(status: 500, code: nil)) == .retry(after: .zero, kind: .server))

        // A success after a retry refunds that retry's cost; a success without retry adds 1.
        strategy.recordSuccess(tokens[0])
        #expect(strategy.statistics(partition: "ec2").availableQuota == 5)
        strategy.recordSuccess(starved)
        #expect(strategy.statistics(partition: "ec2").availableQuota == 6)

        let stats = strategy.statistics(partition: "ec2")
        #expect(stats.quotaExhausted == 1)
        #expect(stats.retries == 100)
        #expect(stats.attempts == 201)
        #expect(stats.giveUps == 1)
        #expect(stats.successes == 2)
    }

    @Test func timeoutRetriesCostTenAndSuccessRefundsTen() async throws {
        let strategy = try RetryStrategy(clock: ManualRetryClock(), random: .fixed(0))
        var token = try await strategy.acquireInitialToken(partition: "ssm")
        _ = strategy.refreshTokenForRetry(&token, failure: .transport(.timeout))
        #expect(strategy.statistics(partition: "ssm").availableQuota == 490)
        strategy.recordSuccess(token)
        #expect(strategy.statistics(partition: "ssm").availableQuota == 500)
    }

    @Test func notRetryableFailuresLeaveTheQuotaAlone() async throws {
        let strategy = try RetryStrategy(clock: ManualRetryClock(), random: .fixed(1))
        var token = try await strategy.acquireInitialToken(partition: "ssm")
        let decision = strategy.refreshTokenForRetry(&token, failure: .service(status: 400, code: "ValidationException"))
        #expect(decision == .giveUp(.notRetryable(decidedBy: nil)))
        #expect(strategy.statistics(partition: "ssm").availableQuota == 500)
        var tls = try await strategy.acquireInitialToken(partition: "ssm")
        #expect(strategy.refreshTokenForRetry(&tls, failure: .transport(.tls)) == .giveUp(.notRetryable(decidedBy: "transport")))
    }
}
