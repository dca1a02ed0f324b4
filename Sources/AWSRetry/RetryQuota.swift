/// The SDK standard mode's retry quota: a token bucket that retries must pay into, so that when a
/// service is broken for everyone, a client stops multiplying the load by `maxAttempts`.
/// Successful first attempts slowly refill it; a success after retries refunds the last retry's cost.
/// Constants from botocore `retries/quota.py` and `RetryQuotaChecker` (standard mode 2.0):
/// capacity 500, retry cost 5, timeout retry cost 10, no-retry increment 1.
public struct RetryQuota: Sendable, Equatable {
    public struct Costs: Sendable, Equatable {
        public var initialCapacity: Int
        public var retryCost: Int
        /// Timeouts and connection failures cost more: they hold sockets and threads for longer.
        public var transportRetryCost: Int
        public var noRetryIncrement: Int

        public init(initialCapacity: Int = 500, retryCost: Int = 5, transportRetryCost: Int = 10, noRetryIncrement: Int = 1) {
            self.initialCapacity = initialCapacity
            self.retryCost = retryCost
            self.transportRetryCost = transportRetryCost
            self.noRetryIncrement = noRetryIncrement
        }

        public static let standard = Costs()

        /// The cost of retrying this failure: transport failures (no response at all) cost more.
        public func cost(of failure: AttemptFailure) -> Int {
            failure.transportError != nil && failure.httpStatus == nil ? transportRetryCost : retryCost
        }

        func problem() -> String? {
            if initialCapacity < 0 { return "retry quota capacity must not be negative (got \(initialCapacity))" }
            if retryCost < 0 || transportRetryCost < 0 || noRetryIncrement < 0 {
                return "retry quota costs must not be negative (got \(retryCost), \(transportRetryCost), \(noRetryIncrement))"
            }
            return nil
        }
    }

    public let costs: Costs
    public private(set) var available: Int

    public init(costs: Costs = .standard) {
        self.costs = costs
        self.available = costs.initialCapacity
    }

    /// Takes `amount` if the bucket holds it; false (and nothing taken) otherwise.
    public mutating func acquire(_ amount: Int) -> Bool {
        guard amount <= available else { return false }
        available -= amount
        return true
    }

    /// Gives capacity back, never above the initial capacity.
    public mutating func release(_ amount: Int) {
        available = min(costs.initialCapacity, available + max(amount, 0))
    }

    /// After a 2xx: refund the last retry's cost, or add the small increment when there was none.
    public mutating func recordSuccess(lastRetryCost: Int?) {
        release(lastRetryCost ?? costs.noRetryIncrement)
    }
}
