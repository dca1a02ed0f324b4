import Foundation

/// Where Run Command wrote a command's whole output (SendCommand's OutputS3BucketName / OutputS3KeyPrefix /
/// CloudWatchOutputConfig), as sent.
public struct CommandOutputs: Sendable, Equatable {
    public var s3Bucket: String?
    public var s3KeyPrefix: String?
    public var logGroup: String?
    public init(s3Bucket: String? = nil, s3KeyPrefix: String? = nil, logGroup: String? = nil) {
        self.s3Bucket = s3Bucket
        self.s3KeyPrefix = s3KeyPrefix
        self.logGroup = logGroup
    }
}

/// One invocation's whole stdout in S3, and whether its envelope had to be read from there.
public struct InvocationOutput: Sendable, Equatable {
    public var commandId: String
    public var instanceId: String
    /// s3://bucket/key
    public var stdoutURL: String
    public var completedFromS3: Bool
    public init(commandId: String, instanceId: String, stdoutURL: String, completedFromS3: Bool) {
        self.commandId = commandId
        self.instanceId = instanceId
        self.stdoutURL = stdoutURL
        self.completedFromS3 = completedFromS3
    }
}

extension Ledger {
    /// Recorded with the intent (same nonce), before the command goes out.
    public func recordCommandOutputs(nonce: String, _ o: CommandOutputs) throws {
        try locked {
            try database.execute("""
                INSERT OR REPLACE INTO command_outputs (nonce, s3_bucket, s3_key_prefix, log_group) VALUES (?, ?, ?, ?)
                """, [.text(nonce), .optional(o.s3Bucket), .optional(o.s3KeyPrefix), .optional(o.logGroup)])
        }
    }

    /// What the command with this nonce was sent with; nil for a command sent without `output:` (or before it existed).
    public func commandOutputs(nonce: String) throws -> CommandOutputs? {
        try locked {
            try database.query("SELECT s3_bucket, s3_key_prefix, log_group FROM command_outputs WHERE nonce = ?",
                               [.text(nonce)]) { CommandOutputs(s3Bucket: $0.text(0), s3KeyPrefix: $0.text(1), logGroup: $0.text(2)) }
                .first
        }
    }

    public func recordInvocationOutputs(_ outputs: [InvocationOutput]) throws {
        guard !outputs.isEmpty else { return }
        try locked {
            for o in outputs {
                try database.execute("""
                    INSERT OR REPLACE INTO invocation_outputs (command_id, instance_id, stdout_url, completed_from_s3)
                    VALUES (?, ?, ?, ?)
                    """, [.text(o.commandId), .text(o.instanceId), .text(o.stdoutURL), .int(o.completedFromS3 ? 1 : 0)])
            }
        }
    }

    public func invocationOutputs(commandId: String) throws -> [InvocationOutput] {
        try locked {
            try database.query("""
                SELECT command_id, instance_id, stdout_url, completed_from_s3 FROM invocation_outputs
                WHERE command_id = ? ORDER BY instance_id
                """, [.text(commandId)]) {
                InvocationOutput(commandId: $0.text(0) ?? "", instanceId: $0.text(1) ?? "", stdoutURL: $0.text(2) ?? "",
                                 completedFromS3: ($0.int(3) ?? 0) != 0)
            }
        }
    }
}
