import Testing
@testable import AWSRetry

private struct FakeServiceError: Error, Equatable {
    let failure: AttemptFailure
}

@Suite struct RetryStrategyTests {
    @Test func maxAttemptsIsRespectedWithTheStandardSchedule() async throws {
        let config = RetryConfiguration(
            maxAttempts: 4, throttlingBackoff: BackoffSchedule(base: .seconds(3), maxBackoff: .seconds(10)))
        let strategy = try RetryStrategy(configuration: config, clock: ManualRetryClock(), random: .fixed(1))
        var token = try await strategy.acquireInitialToken(partition: "ssm")
        let failure = AttemptFailure.service(status: 503, code: nil)
        #expect(strategy.refreshTokenForRetry(&token, failure: failure) == .retry(after: .seconds(1), kind: .server))
        // Throttles use their own schedule, indexed by the same retry count.
        let throttle = AttemptFailure.service(status: 400, code: "ThrottlingException")
        #expect(strategy.refreshTokenForRetry(&token, failure: throttle) == .retry(after: .seconds(6), kind: .throttling))
        #expect(strategy.refreshTokenForRetry(&token, failure: failure) == .retry(after: .seconds(4), kind: .server))
        #expect(token.attempt == 4)
        #expect(strategy.refreshTokenForRetry(&token, failure: failure) == .giveUp(.maxAttemptsReached(4)))
        #expect(strategy.statistics(partition: "ssm").throttles == 1)
    }

    @Test func oneAttemptMeansNoRetries() async throws {
        let strategy = try RetryStrategy(configuration: RetryConfiguration(maxAttempts: 1), clock: ManualRetryClock())
        var token = try await strategy.acquireInitialToken(partition: "sts")
        #expect(strategy.refreshTokenForRetry(&token, failure: .transport(.connect)) == .giveUp(.maxAttemptsReached(1)))
    }

    @Test func eventualConsistencyHasItsOwnScheduleAndDoesNotDrainTheQuota() async throws {
        let strategy = try RetryStrategy(clock: ManualRetryClock(), random: .fixed(1))
        var token = try await strategy.acquireInitialToken(partition: "ssm", eventualConsistencyCodes: ["InvocationDoesNotExist"])
        let notYet = AttemptFailure.service(status: 400, code: "InvocationDoesNotExist")
        var delays: [Duration] = []
        while case .retry(let delay, let kind) = strategy.refreshTokenForRetry(&token, failure: notYet) {
            #expect(kind == .eventualConsistency)
            delays.append(delay)
        }
        let expected: [Duration] = [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4)] + Array(repeating: .seconds(5), count: 5)
        #expect(delays == expected)
        #expect(token.attempt == 10)
        #expect(strategy.refreshTokenForRetry(&token, failure: notYet) == .giveUp(.eventualConsistencyAttemptsReached(10)))
        let stats = strategy.statistics(partition: "ssm")
        #expect(stats.availableQuota == 500)
        #expect(stats.eventualConsistencyRetries == 9)
        // The standard cap is separate: a 503 now still gets its retries.
        #expect(strategy.refreshTokenForRetry(&token, failure: .service(status: 503, code: nil)) == .retry(after: .seconds(1), kind: .server))
    }

    @Test func eventualConsistencyTimeBudgetStopsTheWaits() async throws {
        let clock = ManualRetryClock(startingAt: 100)
        let config = RetryConfiguration(eventualConsistency: EventualConsistencyPolicy(maxAttempts: 50, timeBudget: .seconds(3)))
        let strategy = try RetryStrategy(configuration: config, clock: clock, random: .fixed(1))
        var token = try await strategy.acquireInitialToken(partition: "ec2", eventualConsistencyCodes: ["InvalidAMIID.NotFound"])
        let notYet = AttemptFailure.service(status: 400, code: "InvalidAMIID.NotFound", isAfterCreate: true)
        var decision = strategy.refreshTokenForRetry(&token, failure: notYet)
        #expect(decision == .retry(after: .milliseconds(500), kind: .eventualConsistency))
        try await strategy.waitToRetry(token, after: .milliseconds(500))
        decision = strategy.refreshTokenForRetry(&token, failure: notYet)
        #expect(decision == .retry(after: .seconds(1), kind: .eventualConsistency))
        try await strategy.waitToRetry(token, after: .seconds(1))
        // 1.5 s spent; another 2 s would cross the 3 s budget.
        #expect(strategy.refreshTokenForRetry(&token, failure: notYet) == .giveUp(.eventualConsistencyBudgetExhausted(.seconds(3))))
        #expect(clock.sleeps == [.milliseconds(500), .seconds(1)])
    }

    @Test func runRetriesReSignsAndReturnsTheResult() async throws {
        let clock = ManualRetryClock()
        let strategy = try RetryStrategy(clock: clock, random: .fixed(1))
        var seenAttempts: [Int] = []
        var events: [RetryEvent] = []
        let value = try await strategy.run(
            partition: "ssm", describe: { ($0 as? FakeServiceError)?.failure }, onRetry: { events.append($0) }
        ) { attempt in
            seenAttempts.append(attempt)
            if attempt < 3 { throw FakeServiceError(failure: .service(status: 503, code: "RequestLimitExceeded")) }
            return "ok"
        }
        #expect(value == "ok")
        #expect(seenAttempts == [1, 2, 3])
        #expect(events.map(\.failedAttempt) == [1, 2])
        #expect(events.allSatisfy { $0.kind == .throttling })
        #expect(clock.sleeps == [.seconds(1), .seconds(2)])
        let stats = strategy.statistics(partition: "ssm")
        #expect(stats.attempts == 3 && stats.retries == 2 && stats.throttles == 2 && stats.successes == 1)
        #expect(stats.availableQuota == 495, "two retries cost 10, the success refunds the last 5")
    }

    @Test func runSurfacesTheLastErrorUnwrapped() async throws {
        let strategy = try RetryStrategy(clock: ManualRetryClock(), random: .fixed(0))
        var calls = 0
        let failing = FakeServiceError(failure: .transport(.timeout))
        await #expect(throws: failing) {
            try await strategy.run(partition: "ssm", describe: { ($0 as? FakeServiceError)?.failure }) { _ -> Int in
                calls += 1
                throw failing
            }
        }
        #expect(calls == 3)

        // An error that is not an attempt failure surfaces at once.
        calls = 0
        await #expect(throws: CancellationError.self) {
            try await strategy.run(partition: "ssm", describe: { ($0 as? FakeServiceError)?.failure }) { _ -> Int in
                calls += 1
                throw CancellationError()
            }
        }
        #expect(calls == 1)
    }

    @Test func concurrentOperationsAreCountedExactly() async throws {
        let strategy = try RetryStrategy(configuration: RetryConfiguration(mode: .adaptive), clock: ManualRetryClock())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    var token = try await strategy.acquireInitialToken(partition: index.isMultiple(of: 2) ? "ec2" : "ssm")
                    _ = strategy.refreshTokenForRetry(&token, failure: .service(status: 500, code: nil))
                    strategy.recordSuccess(token)
                }
            }
            try await group.waitForAll()
        }
        let all = strategy.statistics()
        #expect(all.keys.sorted() == ["ec2", "ssm"])
        for stats in all.values {
            #expect(stats.attempts == 200 && stats.retries == 100 && stats.successes == 100)
            #expect(stats.availableQuota == 500)
        }
    }

    @Test func badConfigurationIsRejectedWithAFix() throws {
        #expect(throws: RetryConfigurationError("max attempts must be at least 1 (got 0); 1 disables retries")) {
            try RetryStrategy(configuration: RetryConfiguration(maxAttempts: 0))
        }
        let badBackoff = RetryConfiguration(backoff: BackoffSchedule(base: .seconds(5), maxBackoff: .seconds(1)))
        #expect(throws: RetryConfigurationError.self) { try RetryStrategy(configuration: badBackoff) }
        let badBudget = RetryConfiguration(eventualConsistency: EventualConsistencyPolicy(timeBudget: .zero))
        #expect(throws: RetryConfigurationError.self) { try RetryStrategy(configuration: badBudget) }
    }

    @Test func giveUpReasonsSayWhatHappened() {
        #expect(GiveUpReason.maxAttemptsReached(3).description.contains("max_attempts"))
        #expect(GiveUpReason.retryQuotaExhausted(available: 2, cost: 5).description.contains("2 left"))
        #expect(GiveUpReason.notRetryable(decidedBy: "transport").description == "not retryable (decided by transport)")
    }
}
