import Foundation

/// Caches another provider's credentials and refreshes them shortly before they expire.
///
/// Long-term keys (no expiration) are fetched once. Temporary ones are fetched again once the clock is inside the
/// refresh window (5 minutes by default), so a request never leaves with credentials about to lapse. Concurrent
/// callers share one in-flight fetch: a thousand parallel requests at expiry cause one STS or IMDS call, not a
/// thousand. If a refresh fails while the cached credentials are still valid, those are used and the next call
/// tries again, so a metadata hiccup does not fail requests that could still be signed.
public actor RefreshingCredentialProvider: CredentialProvider {
    let base: any CredentialProvider
    let refreshWindow: TimeInterval
    let now: @Sendable () -> Date
    /// Once a fresh fetch is already inside the window, retry no sooner than this, instead of on every call.
    static let minimumRetryInterval: TimeInterval = 60

    private var cached: AWSCredentials?
    /// When the cached credentials should be replaced; nil means never (long-term keys).
    private var refreshAt: Date?
    private var inFlight: Task<AWSCredentials, any Error>?
    /// How many times the wrapped provider was asked, for tests and diagnostics.
    public private(set) var fetchCount = 0

    public init(wrapping base: any CredentialProvider, refreshWindow: Duration = .seconds(300),
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.base = base
        self.refreshWindow = Double(refreshWindow.components.seconds)
        self.now = now
    }

    public func credentials() async throws -> AWSCredentials {
        let current = now()
        if let cached, refreshAt.map({ current < $0 }) ?? true { return cached }

        let task: Task<AWSCredentials, any Error>
        if let inFlight {
            task = inFlight
        } else {
            fetchCount += 1
            let base = self.base
            task = Task { try await base.credentials() }
            inFlight = task
        }
        do {
            let fresh = try await task.value
            // Only the first caller to resume records the result; the others just return it.
            if inFlight == task {
                inFlight = nil
                store(fresh, at: now())
            }
            return fresh
        } catch {
            if inFlight == task { inFlight = nil }
            if let cached, let expiration = cached.expiration, expiration > now() { return cached }
            throw error
        }
    }

    /// Forgets the cached credentials, e.g. after a service rejected them as expired.
    public func invalidate() {
        cached = nil
        refreshAt = nil
    }

    private func store(_ credentials: AWSCredentials, at time: Date) {
        cached = credentials
        guard let expiration = credentials.expiration else {
            refreshAt = nil
            return
        }
        let planned = expiration.addingTimeInterval(-refreshWindow)
        refreshAt = planned > time
            ? planned
            : min(time.addingTimeInterval(Self.minimumRetryInterval), expiration)
    }
}
