import CSQLite
import Foundation

/// A small SQLite layer: one connection, prepared statements with bound values, transactions, and every result code
/// turned into an error that names the statement. Used from one thread at a time (the Ledger serialises access).
final class SQLiteDatabase {
    private var handle: OpaquePointer?
    let path: String

    /// Opens (creating if needed) with WAL, a busy timeout and foreign keys on; `readOnly` opens an existing file
    /// for reading only and changes nothing about it. A symlink is never followed (SQLITE_OPEN_NOFOLLOW).
    init(path: String, busyTimeout: Int32 = 5_000, readOnly: Bool = false) throws {
        self.path = path
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
            | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            throw LedgerError.database("cannot open the ledger at \(path): \(message)")
        }
        handle = db
        sqlite3_busy_timeout(db, busyTimeout)
        if readOnly { return }
        // Switching to WAL needs the file to itself and SQLite does not wait for that (no busy handler): a second
        // controller opening a brand-new ledger at the same moment retries for a while instead of failing.
        var attempts = 0
        while true {
            do {
                try execute("PRAGMA journal_mode = WAL")
                break
            } catch LedgerError.busy(let message) {
                attempts += 1
                if attempts >= 100 { throw LedgerError.busy(message) }
                usleep(50_000)
            }
        }
        try execute("PRAGMA foreign_keys = ON")
        try execute("PRAGMA synchronous = NORMAL")
    }

    deinit { close() }

    /// Closing twice is harmless.
    func close() {
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Runs one statement with bound values, for its effect.
    func execute(_ sql: String, _ values: [SQLValue] = []) throws {
        try withStatement(sql, values) { stmt in
            var rc = sqlite3_step(stmt)
            while rc == SQLITE_ROW { rc = sqlite3_step(stmt) }
            guard rc == SQLITE_DONE else { throw error(sql, rc) }
        }
    }

    /// Runs a query and maps each row.
    func query<T>(_ sql: String, _ values: [SQLValue] = [], _ row: (SQLRow) throws -> T) throws -> [T] {
        try withStatement(sql, values) { stmt in
            var out: [T] = []
            while true {
                let rc = sqlite3_step(stmt)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else { throw error(sql, rc) }
                out.append(try row(SQLRow(stmt: stmt)))
            }
            return out
        }
    }

    /// Rows changed by the last INSERT / UPDATE / DELETE.
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// Runs `body` in one IMMEDIATE transaction (the write lock is taken at once, so two controllers queue).
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    private func withStatement<T>(_ sql: String, _ values: [SQLValue], _ body: (OpaquePointer) throws -> T) throws -> T {
        guard let handle else { throw LedgerError.database("the ledger is closed") }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(sql, rc) }
        defer { sqlite3_finalize(stmt) }
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let bound: Int32
            switch value {
            case .null: bound = sqlite3_bind_null(stmt, index)
            case .int(let v): bound = sqlite3_bind_int64(stmt, index, Int64(v))
            case .double(let v): bound = sqlite3_bind_double(stmt, index, v)
            case .text(let v): bound = clonectl_bind_text(stmt, index, v, -1)
            }
            guard bound == SQLITE_OK else { throw error(sql, bound) }
        }
        return try body(stmt)
    }

    private func error(_ sql: String, _ rc: Int32) -> LedgerError {
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
        if rc == SQLITE_BUSY || rc == SQLITE_LOCKED {
            return .busy("the ledger \(path) is busy (another controller is writing): \(message)")
        }
        return .database("SQLite error \(rc) (\(message)) in: \(sql.prefix(80))")
    }
}

enum SQLValue {
    case null, int(Int), double(Double), text(String)

    static func optional(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null }
    static func optional(_ i: Int?) -> SQLValue { i.map { .int($0) } ?? .null }
}

/// One result row; columns by index.
struct SQLRow {
    let stmt: OpaquePointer

    func text(_ i: Int32) -> String? {
        guard sqlite3_column_type(stmt, i) != SQLITE_NULL, let p = sqlite3_column_text(stmt, i) else { return nil }
        return String(cString: p)
    }

    func int(_ i: Int32) -> Int? {
        sqlite3_column_type(stmt, i) == SQLITE_NULL ? nil : Int(sqlite3_column_int64(stmt, i))
    }

    func double(_ i: Int32) -> Double? {
        sqlite3_column_type(stmt, i) == SQLITE_NULL ? nil : sqlite3_column_double(stmt, i)
    }
}
