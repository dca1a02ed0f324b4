import AWSCore
import ClonectlAgent
import ClonectlLedger
import ClonectlPlan
import Foundation

/// Where the SSM Agent puts an invocation's whole output when SendCommand names a bucket, and reading it back.
///
/// The key layout is the agent's (amazon-ssm-agent, read for this, no code copied): the message service joins
/// OutputS3KeyPrefix, the command id and the instance id (messageservice/utils/messageutil.go, `path.Join`); the
/// document parser adds the plugin name (framework/docparser/docparser.go, `fileutil.BuildS3Path`, which drops every
/// `:`); the IO handler adds the step name and the file name `stdout` / `stderr`
/// (framework/processor/executer/iohandler/iohandler.go `Init`, DefaultOutputConfig). The step name is the
/// property id for a schema 1.2 document such as AWS-RunPowerShellScript (`0.aws:runPowerShellScript`) and the
/// mainSteps name for schema 2.x (runpluginutil.go `getStepName`). So an inline command's stdout is
/// `PREFIX/COMMAND/INSTANCE/awsrunPowerShellScript/0.awsrunPowerShellScript/stdout`.
public enum AgentOutputKey {
    /// The action both kinds of document run.
    public static let action = "aws:runPowerShellScript"

    /// The object key of `file` (stdout or stderr). `pluginName` is the plugin's Name as ListCommandInvocations
    /// reports it: the action itself for a schema 1.2 document (its step is then `0.` + the action), else the
    /// schema 2.x step name.
    public static func key(prefix: String?, commandId: String, instanceId: String, pluginName: String = action,
                           file: String = "stdout") -> String {
        let step = pluginName.contains(":") ? "0." + pluginName : pluginName
        let parts = [prefix ?? "", commandId, instanceId, action, step, file].map { $0.replacingOccurrences(of: ":", with: "") }
        return joinCleaned(parts)
    }

    /// Go's `path.Join`: empty elements dropped, `//` collapsed, `.` and `..` resolved, no trailing slash.
    static func joinCleaned(_ parts: [String]) -> String {
        var out: [Substring] = []
        for part in parts {
            for segment in part.split(separator: "/", omittingEmptySubsequences: true) {
                if segment == "." { continue }
                if segment == "..", !out.isEmpty, out.last != ".." { out.removeLast(); continue }
                out.append(segment)
            }
        }
        return out.joined(separator: "/")
    }

    /// The CloudWatch Logs stream of stdout: COMMAND/INSTANCE/PLUGIN-ID/stdout with `:` and `*` as `-`
    /// (runpluginutil.go and messageutil.go `generateCloudWatchLogStreamPrefix`); PLUGIN-ID is the action for
    /// schema 1.2 and the step name for 2.x.
    public static func logStream(commandId: String, instanceId: String, pluginName: String = action) -> String {
        "\(commandId)/\(instanceId)/" + pluginName.replacingOccurrences(of: ":", with: "-")
            .replacingOccurrences(of: "*", with: "-") + "/stdout"
    }

    /// The log group the agent uses when CloudWatch output is on without a group name: /aws/ssm/DOCUMENT.
    public static func defaultLogGroup(documentName: String) -> String { "/aws/ssm/" + documentName }
}

extension Plan.Output {
    /// What the ledger keeps of it for each command.
    public var commandOutputs: CommandOutputs {
        CommandOutputs(s3Bucket: s3Bucket, s3KeyPrefix: s3KeyPrefix, logGroup: cloudWatchLogGroup)
    }
}

/// Reads a cut envelope's whole stdout from S3.
struct FullOutputReader: Sendable {
    let s3: S3Client
    /// The most it reads: 64 MiB, far over sysprep-logs' largest envelope (16,000,000 characters) and what the
    /// controller can hold and hash at once. A larger object is refused, naming it, before it is read whole.
    var limit = FullOutputReader.defaultLimit
    static let defaultLimit = 64 * 1024 * 1024

    /// The bytes at `s3://bucket/key` as text; a clear WorkflowError when they cannot be read, naming the object
    /// and what to fix. The invocation is then not recorded as judged, so a resume reads it again.
    func stdout(bucket: String, key: String, commandId: String, instanceId: String) async throws -> String {
        do {
            // One byte over the limit is asked for, so an object of exactly `limit` bytes passes and a larger one shows.
            let (bytes, size) = try await s3.getObjectPrefix(bucket: bucket, key: key, limit: limit + 1)
            if bytes.count > limit || (size ?? 0) > limit {
                throw WorkflowError.guest("the whole output of command \(commandId) on \(instanceId), s3://\(bucket)/\(key), "
                    + "is \(size.map { "\($0) bytes" } ?? "over \(limit) bytes"): over the \(limit / (1024 * 1024)) MiB clonectl "
                    + "reads from S3, so its envelope was not read. Look at the object itself (aws s3 cp), and give the "
                    + "payload a smaller budget (sysprep-logs: MaxChars) when you run it again")
            }
            return String(decoding: bytes, as: UTF8.self)
        } catch let error as AWSError {
            throw WorkflowError.guest("the output of command \(commandId) on \(instanceId) was cut at "
                + "\(OutputLimits.getCommandInvocation) bytes and its whole copy s3://\(bucket)/\(key) could not be read: "
                + "\(error.code): \(error.message). Fix that, then run the same command again: the command is recorded and "
                + "is read again, not sent again")
        }
    }
}
