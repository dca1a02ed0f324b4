import Foundation

/// CUBIC congestion control applied to a request rate (RFC 8312 shape), as the SDKs' adaptive mode
/// does it (botocore `retries/throttling.py`, `CubicCalculator`). After a throttle at rate W_max the
/// rate drops to beta * W_max, then grows along
///
///     W(t) = C * (t - K)^3 + W_max,   K = cbrt(W_max * (1 - beta) / C)
///
/// which is back at W_max after K seconds, flat around it, then probes above it.
public struct CubicCalculator: Sendable, Equatable {
    public static let defaultScaleConstant = 0.4
    public static let defaultBeta = 0.7

    public let scaleConstant: Double
    public let beta: Double
    /// The rate we were sending at when the last throttle arrived.
    public private(set) var lastMaxRate: Double
    /// Seconds after the last throttle at which the curve is back at `lastMaxRate`.
    public private(set) var zeroPoint: Double
    public private(set) var lastFailure: Double

    public init(startingMaxRate: Double = 0, startTime: Double,
                scaleConstant: Double = defaultScaleConstant, beta: Double = defaultBeta) {
        self.scaleConstant = scaleConstant
        self.beta = beta
        self.lastMaxRate = startingMaxRate
        self.lastFailure = startTime
        self.zeroPoint = 0
        self.zeroPoint = Self.zeroPoint(maxRate: startingMaxRate, scaleConstant: scaleConstant, beta: beta)
    }

    static func zeroPoint(maxRate: Double, scaleConstant: Double, beta: Double) -> Double {
        cbrt(maxRate * (1 - beta) / scaleConstant)
    }

    /// The rate the curve allows at `timestamp` (no state change).
    public func successReceived(at timestamp: Double) -> Double {
        let dt = timestamp - lastFailure
        return scaleConstant * pow(dt - zeroPoint, 3) + lastMaxRate
    }

    /// Records a throttle while sending at `currentRate`; returns the reduced rate.
    public mutating func errorReceived(currentRate: Double, at timestamp: Double) -> Double {
        lastMaxRate = currentRate
        zeroPoint = Self.zeroPoint(maxRate: currentRate, scaleConstant: scaleConstant, beta: beta)
        lastFailure = timestamp
        return currentRate * beta
    }
}

/// Measures the rate at which responses come back, smoothed over half-second buckets
/// (botocore `retries/adaptive.py`, `RateClocker`: smoothing 0.8, bucket 0.5 s).
public struct RateClocker: Sendable, Equatable {
    public static let defaultSmoothing = 0.8
    public static let defaultBucketSeconds = 0.5

    public let smoothing: Double
    public let bucketSeconds: Double
    public private(set) var measuredRate: Double = 0
    private var lastBucket: Double
    private var count: Double = 0

    public init(startTime: Double, smoothing: Double = defaultSmoothing, bucketSeconds: Double = defaultBucketSeconds) {
        self.smoothing = smoothing
        self.bucketSeconds = bucketSeconds
        // botocore starts from the whole second, not the half: kept so the numbers match theirs.
        self.lastBucket = startTime.rounded(.down)
    }

    /// Counts `amount` responses at `timestamp`; when a new bucket starts, folds the finished
    /// bucket's rate into the smoothed estimate. Returns the estimate.
    public mutating func record(at timestamp: Double, amount: Double = 1) -> Double {
        let bucket = (timestamp / bucketSeconds).rounded(.down) * bucketSeconds
        count += amount
        if bucket > lastBucket {
            let currentRate = count / (bucket - lastBucket)
            measuredRate = currentRate * smoothing + measuredRate * (1 - smoothing)
            count = 0
            lastBucket = bucket
        }
        return measuredRate
    }
}
