/// Ledger failures, phrased as what happened and what to do.
public enum LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    case database(String)
    case busy(String)
    /// The ledger was written by a newer clonectl.
    case tooNew(found: Int, supported: Int)
    /// Another controller holds the lock.
    case locked(name: String, owner: String, since: String)
    case notFound(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .database(let m), .busy(let m), .notFound(let m), .invalid(let m): return m
        case .tooNew(let found, let supported):
            return "the ledger has schema version \(found), this clonectl knows up to \(supported): use a newer clonectl"
        case .locked(let name, let owner, let since):
            return "\(name) is locked by \(owner) since \(since); if that controller is gone, break the lock with --break-lock"
        }
    }
}
