import Foundation

/// One wait of a run (an image pending, the source stopping, Sysprep shutting the work copy down, agents coming
/// online): the report draws it as a wait, not as work.
public struct WaitRecord: Sendable, Equatable {
    public var seq: Int
    public var runId: String
    public var step: String
    /// image-pending, stopping, sysprep-shutdown, agent-online.
    public var kind: String
    /// What was waited on: an instance or image id, or "N instances".
    public var target: String
    public var startedAt: String
    public var finishedAt: String?
    /// done, timeout or failed (nil while waiting, or when the controller died in the wait).
    public var outcome: String?
}

/// Who ran a run and where, recorded at its start (migration 3).
public struct RunIdentity: Sendable, Equatable {
    public var callerArn: String?
    public var region: String?
    public init(callerArn: String? = nil, region: String? = nil) {
        self.callerArn = callerArn
        self.region = region
    }
}

/// What the run report reads beyond runs, steps, commands and invocations.
extension Ledger {
    /// Records the operator's identity (the caller ARN) and the region, once: a resumed run keeps its first values
    /// unless they were missing.
    public func recordRunIdentity(_ runId: String, callerArn: String?, region: String?) throws {
        try locked {
            try database.execute("UPDATE runs SET caller_arn = COALESCE(caller_arn, ?), region = COALESCE(region, ?) WHERE id = ?",
                                 [.optional(callerArn), .optional(region), .text(runId)])
        }
    }

    public func runIdentity(_ runId: String) throws -> RunIdentity {
        try locked {
            try database.query("SELECT caller_arn, region FROM runs WHERE id = ?", [.text(runId)]) { r in
                RunIdentity(callerArn: r.text(0), region: r.text(1))
            }.first ?? RunIdentity()
        }
    }

    /// A wait begins; returns its number for `waitFinished`.
    public func waitStarted(runId: String, step: String, kind: String, target: String) throws -> Int {
        try locked {
            try database.execute("INSERT INTO waits (run_id, step, kind, target, started_at) VALUES (?, ?, ?, ?, ?)",
                                 [.text(runId), .text(step), .text(kind), .text(target), .text(timestamp())])
            return try database.query("SELECT last_insert_rowid()") { $0.int(0) ?? 0 }.first ?? 0
        }
    }

    public func waitFinished(_ seq: Int, outcome: String) throws {
        try locked {
            try database.execute("UPDATE waits SET finished_at = ?, outcome = ? WHERE seq = ?",
                                 [.text(timestamp()), .text(outcome), .int(seq)])
        }
    }

    public func waits(runId: String) throws -> [WaitRecord] {
        try locked {
            try database.query("SELECT seq, run_id, step, kind, target, started_at, finished_at, outcome FROM waits WHERE run_id = ? ORDER BY seq",
                               [.text(runId)]) { r in
                WaitRecord(seq: r.int(0) ?? 0, runId: r.text(1) ?? "", step: r.text(2) ?? "", kind: r.text(3) ?? "",
                           target: r.text(4) ?? "", startedAt: r.text(5) ?? "", finishedAt: r.text(6), outcome: r.text(7))
            }
        }
    }

    /// Every command of a run, in the order sent (the report's timeline and recap).
    public func commands(runId: String) throws -> [CommandRecord] {
        try locked {
            try database.query("SELECT \(Self.commandColumns) FROM commands WHERE run_id = ? ORDER BY sent_at, rowid",
                               [.text(runId)], Self.command)
        }
    }

    /// Every invocation of a run's commands, by command then instance.
    public func invocations(runId: String) throws -> [InvocationRecord] {
        try locked {
            try database.query("SELECT " + Self.invocationColumns.split(separator: ",").map { "i.\($0.trimmingCharacters(in: .whitespaces))" }.joined(separator: ", ")
                               + " FROM invocations i JOIN commands c ON c.command_id = i.command_id WHERE c.run_id = ? ORDER BY c.sent_at, c.rowid, i.instance_id",
                               [.text(runId)], Self.invocation)
        }
    }

    /// What a resource is besides its id (its name, private IP), as AWS returned it at creation: the report's
    /// lineage. Merged into what was recorded before.
    public func recordResourceDetail(kind: String, id: String, _ detail: [String: String]) throws {
        let current = try resourceDetail(kind: kind, id: id)
        let merged = current.merging(detail) { _, new in new }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: merged, options: [.sortedKeys]), as: UTF8.self)
        try locked {
            try database.execute("UPDATE resources SET detail_json = ? WHERE kind = ? AND id = ?", [.text(json), .text(kind), .text(id)])
        }
    }

    public func resourceDetail(kind: String, id: String) throws -> [String: String] {
        let text = try locked {
            try database.query("SELECT detail_json FROM resources WHERE kind = ? AND id = ?", [.text(kind), .text(id)]) { $0.text(0) }.first ?? nil
        }
        guard let text, let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String] else { return [:] }
        return object
    }

    /// Runs of a plan, oldest first (`report --plan`).
    public func runs(planName: String) throws -> [RunRecord] {
        try locked {
            try database.query("SELECT \(Self.runColumns) FROM runs WHERE plan_name = ? ORDER BY created_at, rowid", [.text(planName)], Self.run)
        }
    }
}
