/// The token bucket that paces sends once throttling has been seen (botocore `retries/bucket.py`).
/// Capacity is one second's worth of tokens (at least 1); the fill rate never drops below 0.5/s
/// so a throttled client still makes progress.
public struct RateLimitBucket: Sendable, Equatable {
    public static let defaultMinimumRate = 0.5

    public let minimumRate: Double
    public private(set) var fillRate: Double = 0
    public private(set) var maxCapacity: Double = 1
    public private(set) var capacity: Double = 0
    private var lastTimestamp: Double?

    public init(maxRate: Double, now: Double, minimumRate: Double = defaultMinimumRate) {
        self.minimumRate = minimumRate
        setMaxRate(maxRate, now: now)
    }

    /// Changes the fill rate. Tokens owed at the old rate are added first, otherwise the time since
    /// the last refill would be credited at the new rate.
    public mutating func setMaxRate(_ rate: Double, now: Double) {
        refill(now: now)
        fillRate = max(rate, minimumRate)
        maxCapacity = rate >= 1 ? rate : 1
        capacity = min(capacity, maxCapacity)
    }

    mutating func refill(now: Double) {
        guard let last = lastTimestamp else {
            lastTimestamp = now
            return
        }
        capacity = min(maxCapacity, capacity + max(now - last, 0) * fillRate)
        lastTimestamp = now
    }

    /// Takes `amount` tokens and returns nil, or takes nothing and returns how long to wait (seconds)
    /// until they would be there at the current rate.
    public mutating func tryAcquire(_ amount: Double = 1, now: Double) -> Double? {
        refill(now: now)
        if amount <= capacity {
            capacity -= amount
            return nil
        }
        return (amount - capacity) / fillRate
    }
}

/// The SDKs' adaptive mode (botocore `ClientRateLimiter`): until the first throttle nothing is paced;
/// after it, sends take tokens from a bucket whose rate follows CUBIC, capped at twice the measured
/// response rate so that an idle period does not license a burst. Pure value: the caller supplies
/// the time and holds the lock.
public struct ClientRateLimiter: Sendable, Equatable {
    /// The bucket rate may not exceed this multiple of the measured rate.
    public static let maxRateAdjustScale = 2.0

    public private(set) var cubic: CubicCalculator
    public private(set) var clocker: RateClocker
    public private(set) var bucket: RateLimitBucket
    /// Whether sends are paced (set by the first throttle, never cleared, like botocore).
    public private(set) var isEnabled = false

    public init(now: Double) {
        cubic = CubicCalculator(startingMaxRate: 0, startTime: now)
        clocker = RateClocker(startTime: now)
        bucket = RateLimitBucket(maxRate: 1, now: now)
    }

    /// Before a send: nil when it may go now (a token was taken, or pacing is off), otherwise seconds
    /// to wait before asking again.
    public mutating func tryAcquire(now: Double) -> Double? {
        guard isEnabled else { return nil }
        return bucket.tryAcquire(1, now: now)
    }

    /// After every response, success or failure: feed the measured rate and adjust the bucket.
    public mutating func update(throttled: Bool, now: Double) {
        let measured = clocker.record(at: now)
        let newRate: Double
        if throttled {
            // Once pacing, we cannot have been sending faster than the bucket allowed.
            let rateToUse = isEnabled ? min(measured, bucket.fillRate) : measured
            newRate = cubic.errorReceived(currentRate: rateToUse, at: now)
            isEnabled = true
        } else {
            newRate = cubic.successReceived(at: now)
        }
        bucket.setMaxRate(min(newRate, Self.maxRateAdjustScale * measured), now: now)
    }

    /// The pacing rate in requests per second, or nil while pacing is off.
    public var fillRate: Double? { isEnabled ? bucket.fillRate : nil }
    public var measuredRate: Double { clocker.measuredRate }
}
