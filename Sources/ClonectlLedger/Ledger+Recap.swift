/// What a run's recap reads: every guest step's invocations, light enough for a fleet of thousands.
extension Ledger {
    /// The invocations of a run's commands, oldest command first. To stay small for a fleet, `output` is kept only
    /// when it holds more than one result envelope (a step that rebooted: the recap reads the envelopes before the
    /// last), and `resultJSON` is cut to `{"status": ...}`.
    public func recapInvocations(runId: String) throws -> [(CommandRecord, InvocationRecord)] {
        let begin = "-----BEGIN CLONECTL RESULT"
        let sql = """
            SELECT \(Self.commandColumns.split(separator: ",").map { "c.\($0.trimmingCharacters(in: .whitespaces))" }.joined(separator: ", ")),
                   i.command_id, i.instance_id, i.status, i.status_details, i.response_code,
                   CASE WHEN length(i.output) - length(replace(i.output, ?, '')) > ? THEN i.output END,
                   i.verdict,
                   CASE WHEN i.result_json IS NOT NULL THEN json_object('status', json_extract(i.result_json, '$.status')) END,
                   i.started_at, i.finished_at, i.updated_at
            FROM invocations i JOIN commands c ON c.command_id = i.command_id
            WHERE c.run_id = ? ORDER BY c.sent_at, c.rowid, i.instance_id
            """
        return try locked {
            try database.query(sql, [.text(begin), .int(begin.utf8.count), .text(runId)]) { r in
                (Self.command(r), Self.invocation(r, offset: 10))
            }
        }
    }
}
