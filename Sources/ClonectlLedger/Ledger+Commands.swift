import Foundation

/// Commands, invocations, resources and events.
extension Ledger {
    public func recordCommand(_ c: CommandRecord) throws {
        let ids = String(decoding: try JSONEncoder().encode(c.instanceIds), as: UTF8.self)
        try locked {
            // SSM never reuses a command id: one already recorded means the endpoint is not behaving like SSM. Said
            // plainly, rather than as SQLite's "UNIQUE constraint failed".
            if let earlier = try database.query("SELECT step, sent_at FROM commands WHERE command_id = ?", [.text(c.commandId)], {
                ($0.text(0) ?? "?", $0.text(1) ?? "?")
            }).first {
                throw LedgerError.invalid("SendCommand answered with command id \(c.commandId), which the ledger \(path) already "
                    + "holds for step \(earlier.0) (sent \(earlier.1)); SSM never reuses a command id, so check that "
                    + "--endpoint-url points at SSM. Nothing was recorded for step \(c.step)")
            }
            try database.execute("""
                INSERT INTO commands (command_id, run_id, step, payload, version, payload_sha256, nonce, instance_ids,
                                      parameters_json, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(c.commandId), .optional(c.runId), .text(c.step), .text(c.payload), .text(c.version),
                      .text(c.payloadSha256), .text(c.nonce), .text(ids), .text(c.parametersJSON), .text(c.sentAt)])
        }
    }

    public func command(id: String) throws -> CommandRecord {
        guard let c = try locked({
            try database.query("SELECT \(Self.commandColumns) FROM commands WHERE command_id = ?", [.text(id)], Self.command).first
        }) else { throw LedgerError.notFound("no command \(id) in the ledger \(path)") }
        return c
    }

    /// Commands of one run's step, oldest first (a resumed step finds the command it already sent).
    public func commands(runId: String, step: String) throws -> [CommandRecord] {
        try locked {
            try database.query("SELECT \(Self.commandColumns) FROM commands WHERE run_id = ? AND step = ? ORDER BY sent_at, rowid",
                               [.text(runId), .text(step)], Self.command)
        }
    }

    /// Inserts or updates one invocation (the latest poll wins).
    public func recordInvocation(_ i: InvocationRecord) throws {
        try recordInvocations([i])
    }

    /// Inserts or updates invocations in one transaction (a poll round's page at once).
    public func recordInvocations(_ list: [InvocationRecord]) throws {
        guard !list.isEmpty else { return }
        try locked {
            try database.transaction {
                for i in list {
                    try database.execute("""
                        INSERT INTO invocations (command_id, instance_id, status, status_details, response_code, output,
                                                 verdict, result_json, started_at, finished_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (command_id, instance_id) DO UPDATE SET
                            status = excluded.status, status_details = excluded.status_details,
                            response_code = excluded.response_code, output = COALESCE(excluded.output, output),
                            verdict = COALESCE(excluded.verdict, verdict), result_json = COALESCE(excluded.result_json, result_json),
                            started_at = COALESCE(started_at, excluded.started_at),
                            finished_at = COALESCE(excluded.finished_at, finished_at), updated_at = excluded.updated_at
                        """, [.text(i.commandId), .text(i.instanceId), .text(i.status), .optional(i.statusDetails),
                              .optional(i.responseCode), .optional(i.output), .optional(i.verdict), .optional(i.resultJSON),
                              .optional(i.startedAt), .optional(i.finishedAt), .text(i.updatedAt)])
                }
            }
        }
    }

    public func invocations(commandId: String) throws -> [InvocationRecord] {
        try locked {
            try database.query("SELECT \(Self.invocationColumns) FROM invocations WHERE command_id = ? ORDER BY instance_id",
                               [.text(commandId)], Self.invocation)
        }
    }

    /// Every invocation on an instance, newest first, optionally of one step: `clonectl history`.
    public func history(instanceId: String? = nil, step: String? = nil, runId: String? = nil, limit: Int = 100) throws -> [(CommandRecord, InvocationRecord)] {
        var sql = "SELECT \(Self.commandColumns.split(separator: ",").map { "c.\($0.trimmingCharacters(in: .whitespaces))" }.joined(separator: ", ")), "
            + Self.invocationColumns.split(separator: ",").map { "i.\($0.trimmingCharacters(in: .whitespaces))" }.joined(separator: ", ")
            + " FROM invocations i JOIN commands c ON c.command_id = i.command_id WHERE 1 = 1"
        var values: [SQLValue] = []
        if let instanceId { sql += " AND i.instance_id = ?"; values.append(.text(instanceId)) }
        if let step { sql += " AND c.step = ?"; values.append(.text(step)) }
        if let runId { sql += " AND c.run_id = ?"; values.append(.text(runId)) }
        sql += " ORDER BY c.sent_at DESC, c.rowid DESC LIMIT ?"
        values.append(.int(limit))
        return try locked {
            try database.query(sql, values) { r in (Self.command(r), Self.invocation(r, offset: 10)) }
        }
    }

    /// Records a resource the moment AWS returned its id, before anything else happens.
    public func recordResource(runId: String, kind: String, id: String, step: String) throws {
        try locked {
            try database.execute("INSERT INTO resources (kind, id, run_id, step, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, id) DO NOTHING",
                                 [.text(kind), .text(id), .text(runId), .text(step), .text(timestamp())])
        }
    }

    public func markResourceDeleted(kind: String, id: String) throws {
        try locked {
            try database.execute("UPDATE resources SET deleted_at = ? WHERE kind = ? AND id = ? AND deleted_at IS NULL",
                                 [.text(timestamp()), .text(kind), .text(id)])
        }
    }

    public func resources(runId: String, includeDeleted: Bool = false) throws -> [ResourceRecord] {
        try locked {
            try database.query("SELECT kind, id, run_id, step, created_at, deleted_at FROM resources WHERE run_id = ?"
                               + (includeDeleted ? "" : " AND deleted_at IS NULL") + " ORDER BY created_at, rowid",
                               [.text(runId)]) { r in
                ResourceRecord(kind: r.text(0) ?? "", id: r.text(1) ?? "", runId: r.text(2) ?? "", step: r.text(3) ?? "",
                               createdAt: r.text(4) ?? "", deletedAt: r.text(5))
            }
        }
    }

    public func event(runId: String?, level: String = "info", step: String? = nil, _ message: String) throws {
        try locked {
            try database.execute("INSERT INTO events (run_id, at, level, step, message) VALUES (?, ?, ?, ?, ?)",
                                 [.optional(runId), .text(timestamp()), .text(level), .optional(step), .text(message)])
        }
    }

    public func events(runId: String) throws -> [EventRecord] {
        try locked {
            try database.query("SELECT seq, run_id, at, level, step, message FROM events WHERE run_id = ? ORDER BY seq", [.text(runId)]) { r in
                EventRecord(seq: r.int(0) ?? 0, runId: r.text(1), at: r.text(2) ?? "", level: r.text(3) ?? "",
                            step: r.text(4), message: r.text(5) ?? "")
            }
        }
    }

    static let commandColumns = "command_id, run_id, step, payload, version, payload_sha256, nonce, instance_ids, parameters_json, sent_at"
    static let invocationColumns = "command_id, instance_id, status, status_details, response_code, output, verdict, result_json, started_at, finished_at, updated_at"

    static func command(_ r: SQLRow) -> CommandRecord {
        let ids = (r.text(7)).flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
        return CommandRecord(commandId: r.text(0) ?? "", runId: r.text(1), step: r.text(2) ?? "", payload: r.text(3) ?? "",
                             version: r.text(4) ?? "", payloadSha256: r.text(5) ?? "", nonce: r.text(6) ?? "",
                             instanceIds: ids, parametersJSON: r.text(8) ?? "{}", sentAt: r.text(9) ?? "")
    }

    static func invocation(_ r: SQLRow) -> InvocationRecord { invocation(r, offset: 0) }

    static func invocation(_ r: SQLRow, offset o: Int32) -> InvocationRecord {
        InvocationRecord(commandId: r.text(o) ?? "", instanceId: r.text(o + 1) ?? "", status: r.text(o + 2) ?? "",
                         statusDetails: r.text(o + 3), responseCode: r.int(o + 4), output: r.text(o + 5),
                         verdict: r.text(o + 6), resultJSON: r.text(o + 7), startedAt: r.text(o + 8),
                         finishedAt: r.text(o + 9), updatedAt: r.text(o + 10) ?? "")
    }
}
