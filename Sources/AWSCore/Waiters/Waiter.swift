import Foundation

/// How long and how often a waiter polls. Defaults are generous on purpose: an AMI of a large Windows volume can
/// take an hour, far past the SDKs' ten-minute waiters.
public struct WaiterConfiguration: Sendable, Equatable {
    /// First delay between polls; it doubles up to `maxDelay`.
    public var minDelay: Duration
    public var maxDelay: Duration
    /// The waiter gives up after this long.
    public var timeout: Duration

    public init(minDelay: Duration, maxDelay: Duration, timeout: Duration) {
        self.minDelay = minDelay
        self.maxDelay = max(minDelay, maxDelay)
        self.timeout = timeout
    }

    public static let instanceState = WaiterConfiguration(minDelay: .seconds(5), maxDelay: .seconds(30), timeout: .seconds(45 * 60))
    public static let imageAvailable = WaiterConfiguration(minDelay: .seconds(15), maxDelay: .seconds(60), timeout: .seconds(3 * 3600))
    public static let commandComplete = WaiterConfiguration(minDelay: .seconds(2), maxDelay: .seconds(30), timeout: .seconds(2 * 3600))
}

/// One poll's verdict.
public enum WaitState<T: Sendable>: Sendable {
    /// Reached the goal.
    case done(T)
    /// Can never reach it (e.g. waiting for `available` and the image `failed`).
    case failed(String)
    /// Not yet; the text says where it stands, for progress output and the timeout message.
    case pending(String)
}

public enum Waiter {
    /// Consecutive polls that may fail transiently before the wait gives up with that error.
    public static let maxTransientFailures = 5

    /// What a fleet wait is still waiting for, short enough for one progress line: every item up to 5, else the
    /// count and the first 3.
    public static func summary(_ waiting: [String], of total: Int) -> String {
        guard waiting.count > 5 else { return waiting.joined(separator: ", ") }
        return "\(waiting.count) of \(total) still waiting: " + waiting.prefix(3).joined(separator: ", ") + ", ..."
    }

    /// Polls until `poll` answers done or failed, or the timeout passes. Errors thrown by `poll` end the wait
    /// (the client has already retried what is retryable). Cancellation stops it at once.
    public static func wait<T: Sendable>(_ what: String, configuration: WaiterConfiguration,
                                         sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
                                         progress: (@Sendable (String) -> Void)? = nil,
                                         poll: () async throws -> WaitState<T>) async throws -> T {
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.timeout
        var delay = configuration.minDelay
        var last = "not polled yet"
        var transientFailures = 0
        while true {
            try Task.checkCancellation()
            let state: WaitState<T>
            do {
                state = try await poll()
                transientFailures = 0
            } catch let error as AWSError where error.isTransient && transientFailures < maxTransientFailures {
                // One poll that failed after its own retries does not end a wait of minutes or hours.
                transientFailures += 1
                progress?("poll failed (\(error.code)), trying again")
                state = .pending(last)
            }
            switch state {
            case .done(let value):
                return value
            case .failed(let reason):
                throw AWSError(kind: .service, code: "WaiterFailed", message: "\(what): \(reason)",
                               service: "", operation: "wait")
            case .pending(let state):
                if state != last { progress?(state) }
                last = state
            }
            let remaining = deadline - clock.now
            if remaining <= .zero {
                throw AWSError(kind: .timeout, code: "WaiterTimeout",
                               message: "\(what): still \(last) after \(configuration.timeout); raise the wait limit if this is expected",
                               service: "", operation: "wait")
            }
            try await sleep(min(delay, remaining))
            delay = min(delay * 2, configuration.maxDelay)
        }
    }
}
