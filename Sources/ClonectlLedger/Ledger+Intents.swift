import Foundation

/// A SendCommand about to go out: what it is and how to find it in Run Command if its answer never arrives.
public struct CommandIntent: Sendable, Equatable {
    public var nonce: String
    public var runId: String?
    public var step: String
    public var payload: String
    public var version: String
    public var payloadSha256: String
    public var instanceIds: [String]
    public var parametersJSON: String
    /// The Comment sent: carries the marker (the nonce's first 16 characters).
    public var comment: String
    public var createdAt: String
    /// When the latest attempt went out; nil until the first one does.
    public var attemptAt: String?
    public var commandId: String?
    /// pending (may be in Run Command or not), sent (the command is recorded), abandoned (looked for, not there).
    public var state: String

    public init(nonce: String, runId: String?, step: String, payload: String, version: String, payloadSha256: String,
                instanceIds: [String], parametersJSON: String, comment: String, createdAt: String,
                attemptAt: String? = nil, commandId: String? = nil, state: String = "pending") {
        self.nonce = nonce
        self.runId = runId
        self.step = step
        self.payload = payload
        self.version = version
        self.payloadSha256 = payloadSha256
        self.instanceIds = instanceIds
        self.parametersJSON = parametersJSON
        self.comment = comment
        self.createdAt = createdAt
        self.attemptAt = attemptAt
        self.commandId = commandId
        self.state = state
    }

    /// The marker in the Comment: enough of the nonce to tell this run's command from any other.
    public static func marker(nonce: String) -> String { "#" + String(nonce.prefix(16)) }

    /// The command record once Run Command has given (or shown) the command's id.
    public func record(commandId: String) -> CommandRecord {
        CommandRecord(commandId: commandId, runId: runId, step: step, payload: payload, version: version,
                      payloadSha256: payloadSha256, nonce: nonce, instanceIds: instanceIds,
                      parametersJSON: parametersJSON, sentAt: createdAt)
    }
}

extension Ledger {
    /// Records the intent before the first attempt goes out.
    public func recordIntent(_ i: CommandIntent) throws {
        let ids = String(decoding: try JSONEncoder().encode(i.instanceIds), as: UTF8.self)
        try locked {
            try database.execute("""
                INSERT INTO command_intents (nonce, run_id, step, payload, version, payload_sha256, instance_ids,
                                             parameters_json, comment, created_at, attempt_at, command_id, state)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(i.nonce), .optional(i.runId), .text(i.step), .text(i.payload), .text(i.version),
                      .text(i.payloadSha256), .text(ids), .text(i.parametersJSON), .text(i.comment), .text(i.createdAt),
                      .optional(i.attemptAt), .optional(i.commandId), .text(i.state)])
        }
    }

    /// Notes that an attempt is going out now: until its timeout has passed, it may still land.
    public func markIntentAttempt(nonce: String, at: String) throws {
        try locked {
            try database.execute("UPDATE command_intents SET attempt_at = ? WHERE nonce = ?", [.text(at), .text(nonce)])
        }
    }

    /// The command is known (answered or found): recorded, and the intent closed, in one transaction.
    public func completeIntent(nonce: String, command: CommandRecord) throws {
        let ids = String(decoding: try JSONEncoder().encode(command.instanceIds), as: UTF8.self)
        try locked {
            try database.transaction {
                try database.execute("""
                    INSERT INTO commands (command_id, run_id, step, payload, version, payload_sha256, nonce, instance_ids,
                                          parameters_json, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (command_id) DO NOTHING
                    """, [.text(command.commandId), .optional(command.runId), .text(command.step), .text(command.payload),
                          .text(command.version), .text(command.payloadSha256), .text(command.nonce), .text(ids),
                          .text(command.parametersJSON), .text(command.sentAt)])
                try database.execute("UPDATE command_intents SET state = 'sent', command_id = ? WHERE nonce = ?",
                                     [.text(command.commandId), .text(nonce)])
            }
        }
    }

    /// Looked for over the whole window in which it could land, and not there: it was never carried out.
    public func abandonIntent(nonce: String) throws {
        try locked {
            try database.execute("UPDATE command_intents SET state = 'abandoned' WHERE nonce = ? AND state = 'pending'",
                                 [.text(nonce)])
        }
    }

    /// Intents of one run's step still pending, oldest first.
    public func pendingIntents(runId: String?, step: String) throws -> [CommandIntent] {
        try locked {
            try database.query("""
                SELECT nonce, run_id, step, payload, version, payload_sha256, instance_ids, parameters_json, comment,
                       created_at, attempt_at, command_id, state
                FROM command_intents WHERE run_id IS ? AND step = ? AND state = 'pending' ORDER BY created_at, rowid
                """, [.optional(runId), .text(step)]) { r in
                CommandIntent(nonce: r.text(0) ?? "", runId: r.text(1), step: r.text(2) ?? "", payload: r.text(3) ?? "",
                              version: r.text(4) ?? "", payloadSha256: r.text(5) ?? "",
                              instanceIds: (r.text(6)).flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? [],
                              parametersJSON: r.text(7) ?? "{}", comment: r.text(8) ?? "", createdAt: r.text(9) ?? "",
                              attemptAt: r.text(10), commandId: r.text(11), state: r.text(12) ?? "pending")
            }
        }
    }
}
