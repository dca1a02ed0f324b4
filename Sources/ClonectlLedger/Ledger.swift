import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The durable record of every run: steps, commands, invocations, resources, events and locks, in SQLite.
///
/// The file is created with mode 0600 in a 0700 folder (it names instances and commands, and holds outputs), uses WAL
/// so a reader never blocks the writer, and is migrated forward on open. All calls are serialised on one connection.
public final class Ledger: @unchecked Sendable {
    private let db: SQLiteDatabase
    private let lock = NSLock()
    let clock: @Sendable () -> Date
    public let path: String

    /// `$XDG_STATE_HOME/clonectl/ledger.sqlite`, else `~/.local/state/clonectl/ledger.sqlite`.
    public static func defaultPath(environment: [String: String]) -> String {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
            return "\(state)/clonectl/ledger.sqlite"
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return "\(home)/.local/state/clonectl/ledger.sqlite"
    }

    /// Opens the ledger at `path`, creating it (0600, in a 0700 folder) when it does not exist, and migrating it.
    /// `forReading`: a command that only reads (status, history, show) opens a ledger this user cannot write as it
    /// is, read-only, instead of failing on the migration's write.
    public init(path: String, clock: @escaping @Sendable () -> Date = { Date() }, forReading: Bool = false) throws {
        self.path = path
        self.clock = clock
        let fm = FileManager.default
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty, !fm.fileExists(atPath: folder) {
            try fm.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        if !folder.isEmpty { try LedgerTrust.checkFolder(folder, ledger: path) }
        try LedgerTrust.checkFile(path)
        if LedgerTrust.isReadOnly(path) {
            guard forReading else {
                throw LedgerError.invalid("the ledger \(path) is read-only for you; this command records what it does, so make "
                    + "it writable (chmod u+w '\(path)') or pass --ledger with another path")
            }
            db = try SQLiteDatabase(path: path, readOnly: true)
            try Self.checkIsLedger(db, path: path)
            let version = try db.query("PRAGMA user_version") { $0.int(0) ?? 0 }.first ?? 0
            guard version <= Schema.migrations.count else {
                throw LedgerError.tooNew(found: version, supported: Schema.migrations.count)
            }
            guard version == Schema.migrations.count else {
                throw LedgerError.invalid("the ledger \(path) is read-only for you and needs updating from schema version "
                    + "\(version) to \(Schema.migrations.count) before this clonectl can read it: make it writable "
                    + "(chmod u+w '\(path)') once")
            }
            return
        }
        // O_EXCL: two controllers starting at once must not truncate each other's new file. O_CREAT with O_EXCL never
        // follows a symlink, dangling or not; O_NOFOLLOW says so for the reader too.
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        if fd >= 0 {
            Glibc.close(fd)
        } else if errno != EEXIST {
            throw LedgerError.database("cannot create the ledger at \(path): \(String(cString: strerror(errno)))")
        }
        // Checked again: a symlink planted between the check above and the create is refused here, and SQLite
        // itself opens with SQLITE_OPEN_NOFOLLOW.
        try LedgerTrust.checkFile(path)
        db = try SQLiteDatabase(path: path)
        try Self.checkIsLedger(db, path: path)
        try migrate()
    }

    /// A SQLite file that some other program made is refused, never migrated into a ledger: its tables would be
    /// kept, and its data mixed with ours.
    static func checkIsLedger(_ db: SQLiteDatabase, path: String) throws {
        let version = try db.query("PRAGMA user_version") { $0.int(0) ?? 0 }.first ?? 0
        let tables = Set(try db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") { $0.text(0) ?? "" })
        let ours: Set<String> = ["runs", "steps", "commands"]
        if version == 0 ? !tables.isEmpty : !ours.isSubset(of: tables) {
            let names = tables.sorted().prefix(5).joined(separator: ", ")
            throw LedgerError.invalid("\(path) is a SQLite database but not a clonectl ledger (tables: \(names.isEmpty ? "none" : names)); "
                + "clonectl will not change it. Pass --ledger with the path of a ledger, or of a new file")
        }
    }

    public func close() { locked { db.close() } }

    // MARK: - Schema

    public static var schemaVersion: Int { Schema.migrations.count }

    private func migrate() throws {
        try locked {
            // Read the version inside the write transaction: two controllers opening a new ledger at once must not
            // both decide to run the same migration.
            try db.transaction {
                let current = try db.query("PRAGMA user_version") { $0.int(0) ?? 0 }.first ?? 0
                guard current <= Schema.migrations.count else {
                    throw LedgerError.tooNew(found: current, supported: Schema.migrations.count)
                }
                for (index, sql) in Schema.migrations.enumerated() where index >= current {
                    for statement in sql.components(separatedBy: ";\n") where !statement.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                        try db.execute(statement)
                    }
                    try db.execute("PRAGMA user_version = \(index + 1)")
                }
            }
        }
    }

    // MARK: - Runs and steps

    public func createRun(planName: String, planPath: String, planSha256: String) throws -> RunRecord {
        let now = timestamp()
        let id = "run-\(Self.compactDate(clock()))-\(UUID().uuidString.prefix(8).lowercased())"
        try locked {
            try db.execute("INSERT INTO runs (id, plan_name, plan_path, plan_sha256, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'running', ?, ?)",
                           [.text(id), .text(planName), .text(planPath), .text(planSha256), .text(now), .text(now)])
        }
        return RunRecord(id: id, planName: planName, planPath: planPath, planSha256: planSha256, status: "running",
                         createdAt: now, updatedAt: now, finishedAt: nil)
    }

    /// The newest run of this plan that did not finish (running, interrupted or failed), for `clonectl run PLAN` to resume.
    public func unfinishedRun(planName: String) throws -> RunRecord? {
        try locked {
            try db.query("SELECT \(Self.runColumns) FROM runs WHERE plan_name = ? AND status IN ('running', 'interrupted', 'failed') ORDER BY created_at DESC LIMIT 1",
                         [.text(planName)], Self.run).first
        }
    }

    /// The newest run of this plan, whatever its status (`run --rerun` on a finished run).
    public func latestRun(planName: String) throws -> RunRecord? {
        try locked {
            try db.query("SELECT \(Self.runColumns) FROM runs WHERE plan_name = ? ORDER BY created_at DESC LIMIT 1",
                         [.text(planName)], Self.run).first
        }
    }

    public func run(id: String) throws -> RunRecord {
        guard let run = try locked({ try db.query("SELECT \(Self.runColumns) FROM runs WHERE id = ?", [.text(id)], Self.run).first }) else {
            throw LedgerError.notFound("no run \(id) in the ledger \(path)")
        }
        return run
    }

    public func runs(limit: Int = 50) throws -> [RunRecord] {
        try locked { try db.query("SELECT \(Self.runColumns) FROM runs ORDER BY created_at DESC LIMIT ?", [.int(limit)], Self.run) }
    }

    public func setRunStatus(_ id: String, _ status: String) throws {
        let now = timestamp()
        let finished: SQLValue = ["succeeded", "failed", "cleaned"].contains(status) ? .text(now) : .null
        try locked {
            try db.execute("UPDATE runs SET status = ?, updated_at = ?, finished_at = ? WHERE id = ?",
                           [.text(status), .text(now), finished, .text(id)])
            guard db.changes == 1 else { throw LedgerError.notFound("no run \(id) in the ledger \(path)") }
        }
    }

    /// Records that the run was undone (`cleanup RUN --all`, `--on-error cleanup`): the run becomes `cleaned` and every
    /// step it had started becomes `undone`, so neither `run` nor `run --rerun` takes a deleted image for done work.
    public func markRunCleaned(_ id: String, how: String) throws {
        let now = timestamp()
        try locked {
            try db.transaction {
                try db.execute("UPDATE runs SET status = 'cleaned', updated_at = ?, finished_at = ? WHERE id = ?",
                               [.text(now), .text(now), .text(id)])
                guard db.changes == 1 else { throw LedgerError.notFound("no run \(id) in the ledger \(path)") }
                try db.execute("""
                    UPDATE steps SET status = 'undone', finished_at = COALESCE(finished_at, ?),
                        error = ? || CASE WHEN error IS NULL THEN '' ELSE ' (was: ' || error || ')' END
                    WHERE run_id = ? AND status IN ('succeeded', 'failed', 'running')
                    """, [.text(now), .text("undone by \(how) at \(now)"), .text(id)])
                try db.execute("INSERT INTO events (run_id, at, level, step, message) VALUES (?, ?, 'info', NULL, ?)",
                               [.text(id), .text(now), .text("run cleaned by \(how): its steps are undone; `clonectl run --new` starts another round")])
            }
        }
    }

    /// One step's undo succeeded: it no longer counts as done.
    public func markStepUndone(runId: String, step: String, how: String) throws {
        let now = timestamp()
        try locked {
            try db.execute("UPDATE steps SET status = 'undone', error = ? WHERE run_id = ? AND name = ? AND status IN ('succeeded', 'failed', 'running')",
                           [.text("undone by \(how) at \(now)"), .text(runId), .text(step)])
        }
    }

    /// The run's typed state (the workflow's JSON), saved after every step and checkpoint.
    public func saveRunState(_ id: String, json: String) throws {
        try locked {
            try db.execute("UPDATE runs SET state_json = ?, updated_at = ? WHERE id = ?", [.text(json), .text(timestamp()), .text(id)])
            guard db.changes == 1 else { throw LedgerError.notFound("no run \(id) in the ledger \(path)") }
        }
    }

    public func runState(_ id: String) throws -> String? {
        try locked { try db.query("SELECT state_json FROM runs WHERE id = ?", [.text(id)]) { $0.text(0) }.first ?? nil }
    }

    public func stepStarted(runId: String, step: String) throws {
        try locked {
            try db.execute("""
                INSERT INTO steps (run_id, name, status, started_at) VALUES (?, ?, 'running', ?)
                ON CONFLICT (run_id, name) DO UPDATE SET status = 'running', started_at = excluded.started_at, finished_at = NULL, error = NULL
                """, [.text(runId), .text(step), .text(timestamp())])
        }
    }

    public func stepFinished(runId: String, step: String, status: String, error: String? = nil, stateJSON: String? = nil) throws {
        try locked {
            try db.execute("UPDATE steps SET status = ?, finished_at = ?, error = ?, state_json = COALESCE(?, state_json) WHERE run_id = ? AND name = ?",
                           [.text(status), .text(timestamp()), .optional(error), .optional(stateJSON), .text(runId), .text(step)])
            guard db.changes == 1 else { throw LedgerError.invalid("step \(step) of \(runId) finished without having started") }
        }
    }

    public func steps(runId: String) throws -> [StepRecord] {
        try locked {
            try db.query("SELECT run_id, name, status, started_at, finished_at, error, state_json FROM steps WHERE run_id = ? ORDER BY started_at, rowid",
                         [.text(runId)]) { r in
                StepRecord(runId: r.text(0) ?? "", name: r.text(1) ?? "", status: r.text(2) ?? "", startedAt: r.text(3) ?? "",
                           finishedAt: r.text(4), error: r.text(5), stateJSON: r.text(6))
            }
        }
    }

    // MARK: - Helpers shared by the extensions

    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    var database: SQLiteDatabase { db }

    func timestamp() -> String { Self.format(clock()) }

    /// The ledger's timestamp: ISO 8601 UTC with milliseconds. Every time the ledger holds is written this way.
    public static func format(_ date: Date) -> String { UTCTimestamp.format(date) }

    public static func parse(_ text: String) -> Date? { UTCTimestamp.parse(text) }

    static func compactDate(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss"
        return f.string(from: date)
    }

    static let runColumns = "id, plan_name, plan_path, plan_sha256, status, created_at, updated_at, finished_at"

    static func run(_ r: SQLRow) -> RunRecord {
        RunRecord(id: r.text(0) ?? "", planName: r.text(1) ?? "", planPath: r.text(2) ?? "", planSha256: r.text(3) ?? "",
                  status: r.text(4) ?? "", createdAt: r.text(5) ?? "", updatedAt: r.text(6) ?? "", finishedAt: r.text(7))
    }
}
