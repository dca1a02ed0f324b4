import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Locks on plans and instances, so two controllers never drive the same plan or instance at once.
///
/// A lock names its owner (host and process) and carries a heartbeat. It is stale when its process is gone on this
/// host, or when its heartbeat is older than `staleAfter` (the owner may be on another host). A live lock is never
/// taken over silently; a stale one is reported and can be broken on purpose (`breakLock`).
extension Ledger {
    public static func currentOwner() -> LockOwner {
        LockOwner(host: ProcessInfo.processInfo.hostName, pid: Int(getpid()))
    }

    /// Takes `name` for `owner`, or throws `.locked` naming who holds it. Taking a lock one already holds refreshes it.
    public func acquireLock(_ name: String, runId: String?, owner: LockOwner = Ledger.currentOwner(),
                            staleAfter: TimeInterval = 600) throws {
        let now = timestamp()
        try locked {
            try database.transaction {
                let holder = try database.query("SELECT owner_host, owner_pid, heartbeat_at FROM locks WHERE name = ?", [.text(name)]) { r in
                    (LockOwner(host: r.text(0) ?? "", pid: r.int(1) ?? 0), r.text(2) ?? "")
                }.first
                if let (current, heartbeat) = holder, current != owner,
                   !Self.isStale(current, heartbeat: heartbeat, now: clock(), staleAfter: staleAfter) {
                    throw LedgerError.locked(name: name, owner: current.description, since: heartbeat)
                }
                if let (current, heartbeat) = holder, current != owner {
                    try database.execute("INSERT INTO events (run_id, at, level, step, message) VALUES (?, ?, 'warning', NULL, ?)",
                                         [.optional(runId), .text(now), .text("took over stale lock \(name) from \(current) (last heartbeat \(heartbeat))")])
                }
                try database.execute("""
                    INSERT INTO locks (name, run_id, owner_host, owner_pid, acquired_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET run_id = excluded.run_id, owner_host = excluded.owner_host,
                        owner_pid = excluded.owner_pid, acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at
                    """, [.text(name), .optional(runId), .text(owner.host), .int(owner.pid), .text(now), .text(now)])
            }
        }
    }

    /// Keeps a held lock fresh during long waits (an AMI can take an hour).
    public func heartbeat(_ name: String, owner: LockOwner = Ledger.currentOwner()) throws {
        try locked {
            try database.execute("UPDATE locks SET heartbeat_at = ? WHERE name = ? AND owner_host = ? AND owner_pid = ?",
                                 [.text(timestamp()), .text(name), .text(owner.host), .int(owner.pid)])
        }
    }

    public func releaseLock(_ name: String, owner: LockOwner = Ledger.currentOwner()) throws {
        try locked {
            try database.execute("DELETE FROM locks WHERE name = ? AND owner_host = ? AND owner_pid = ?",
                                 [.text(name), .text(owner.host), .int(owner.pid)])
        }
    }

    /// Removes a lock whoever holds it: for an operator who knows its controller is gone. Returns the old owner.
    @discardableResult
    public func breakLock(_ name: String) throws -> LockOwner? {
        try locked {
            try database.transaction {
                let holder = try database.query("SELECT owner_host, owner_pid FROM locks WHERE name = ?", [.text(name)]) {
                    LockOwner(host: $0.text(0) ?? "", pid: $0.int(1) ?? 0)
                }.first
                try database.execute("DELETE FROM locks WHERE name = ?", [.text(name)])
                if let holder {
                    try database.execute("INSERT INTO events (run_id, at, level, step, message) VALUES (NULL, ?, 'warning', NULL, ?)",
                                         [.text(timestamp()), .text("lock \(name) held by \(holder) was broken on purpose")])
                }
                return holder
            }
        }
    }

    static func isStale(_ owner: LockOwner, heartbeat: String, now: Date, staleAfter: TimeInterval) -> Bool {
        if owner.host == ProcessInfo.processInfo.hostName, kill(pid_t(owner.pid), 0) != 0, errno == ESRCH { return true }
        guard let beat = parse(heartbeat) else { return true }
        return now.timeIntervalSince(beat) > staleAfter
    }
}
