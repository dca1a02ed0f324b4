import Foundation

// SSM's JSON 1.1 shapes, limited to the calls clonectl makes. Member names follow the API reference;
// timestamps arrive as epoch seconds.

public struct SendCommandInput: Encodable, Sendable {
    public var instanceIds: [String]
    public var documentName: String
    public var documentVersion: String?
    /// The SHA-256 of the document version's content: SSM refuses the command if the version's hash differs.
    public var documentHash: String?
    public var documentHashType: String?
    public var parameters: [String: [String]]
    public var comment: String?
    /// Delivery timeout: 30 ... 2,592,000 s.
    public var timeoutSeconds: Int?
    public var maxConcurrency: String?
    public var maxErrors: String?

    public init(instanceIds: [String], documentName: String = "AWS-RunPowerShellScript", documentVersion: String? = nil,
                parameters: [String: [String]], comment: String? = nil, timeoutSeconds: Int? = nil,
                maxConcurrency: String? = nil, maxErrors: String? = nil, documentHash: String? = nil) {
        self.instanceIds = instanceIds
        self.documentHash = documentHash
        self.documentHashType = documentHash == nil ? nil : "Sha256"
        self.documentName = documentName
        self.documentVersion = documentVersion
        self.parameters = parameters
        self.comment = comment
        self.timeoutSeconds = timeoutSeconds
        self.maxConcurrency = maxConcurrency
        self.maxErrors = maxErrors
    }

    enum CodingKeys: String, CodingKey {
        case instanceIds = "InstanceIds", documentName = "DocumentName", documentVersion = "DocumentVersion"
        case documentHash = "DocumentHash", documentHashType = "DocumentHashType"
        case parameters = "Parameters", comment = "Comment", timeoutSeconds = "TimeoutSeconds"
        case maxConcurrency = "MaxConcurrency", maxErrors = "MaxErrors"
    }
}

public struct SSMCommand: Decodable, Sendable, Equatable {
    public var commandId: String
    public var documentName: String?
    public var status: String?
    public var statusDetails: String?
    public var instanceIds: [String]?
    public var comment: String?
    public var requestedDateTime: Double?
    public var targetCount: Int?
    public var completedCount: Int?
    public var errorCount: Int?
    public var deliveryTimedOutCount: Int?
    public var maxConcurrency: String?
    public var maxErrors: String?
    /// The parameters as sent (ListCommands returns them): a lost SendCommand is recognised by its nonce here.
    public var parameters: [String: [String]]?

    enum CodingKeys: String, CodingKey {
        case parameters = "Parameters"
        case commandId = "CommandId", documentName = "DocumentName", status = "Status", statusDetails = "StatusDetails"
        case instanceIds = "InstanceIds", comment = "Comment", requestedDateTime = "RequestedDateTime"
        case targetCount = "TargetCount", completedCount = "CompletedCount", errorCount = "ErrorCount"
        case deliveryTimedOutCount = "DeliveryTimedOutCount", maxConcurrency = "MaxConcurrency", maxErrors = "MaxErrors"
    }
}

struct SendCommandOutput: Decodable { var command: SSMCommand
    enum CodingKeys: String, CodingKey { case command = "Command" } }

/// Statuses an invocation can be in. Terminal ones end polling.
public enum InvocationStatus: String, Sendable, Codable, CaseIterable {
    case pending = "Pending", inProgress = "InProgress", delayed = "Delayed", success = "Success"
    case cancelled = "Cancelled", timedOut = "TimedOut", failed = "Failed", cancelling = "Cancelling"

    public var isTerminal: Bool {
        switch self {
        case .success, .cancelled, .timedOut, .failed: return true
        case .pending, .inProgress, .delayed, .cancelling: return false
        }
    }
}

public struct GetCommandInvocationOutput: Decodable, Sendable, Equatable {
    public var commandId: String
    public var instanceId: String
    public var pluginName: String?
    public var status: String
    public var statusDetails: String?
    /// -1 until the plugin has run.
    public var responseCode: Int?
    public var standardOutputContent: String?
    public var standardErrorContent: String?
    public var executionStartDateTime: String?
    public var executionEndDateTime: String?
    public var executionElapsedTime: String?

    public var invocationStatus: InvocationStatus? { InvocationStatus(rawValue: status) }

    enum CodingKeys: String, CodingKey {
        case commandId = "CommandId", instanceId = "InstanceId", pluginName = "PluginName", status = "Status"
        case statusDetails = "StatusDetails", responseCode = "ResponseCode"
        case standardOutputContent = "StandardOutputContent", standardErrorContent = "StandardErrorContent"
        case executionStartDateTime = "ExecutionStartDateTime", executionEndDateTime = "ExecutionEndDateTime"
        case executionElapsedTime = "ExecutionElapsedTime"
    }
}

public struct CommandPlugin: Decodable, Sendable, Equatable {
    public var name: String?
    public var status: String?
    public var statusDetails: String?
    public var responseCode: Int?
    /// At most 2,500 characters, head kept.
    public var output: String?
    public var responseStartDateTime: Double?
    public var responseFinishDateTime: Double?

    enum CodingKeys: String, CodingKey {
        case name = "Name", status = "Status", statusDetails = "StatusDetails", responseCode = "ResponseCode"
        case output = "Output", responseStartDateTime = "ResponseStartDateTime"
        case responseFinishDateTime = "ResponseFinishDateTime"
    }
}

public struct CommandInvocation: Decodable, Sendable, Equatable {
    public var commandId: String
    public var instanceId: String
    public var instanceName: String?
    public var status: String
    public var statusDetails: String?
    public var requestedDateTime: Double?
    public var commandPlugins: [CommandPlugin]?

    public var invocationStatus: InvocationStatus? { InvocationStatus(rawValue: status) }

    enum CodingKeys: String, CodingKey {
        case commandId = "CommandId", instanceId = "InstanceId", instanceName = "InstanceName", status = "Status"
        case statusDetails = "StatusDetails", requestedDateTime = "RequestedDateTime", commandPlugins = "CommandPlugins"
    }
}

public struct ListCommandInvocationsOutput: Decodable, Sendable {
    public var commandInvocations: [CommandInvocation]
    public var nextToken: String?
    enum CodingKeys: String, CodingKey { case commandInvocations = "CommandInvocations", nextToken = "NextToken" }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        commandInvocations = try c.decodeIfPresent([CommandInvocation].self, forKey: .commandInvocations) ?? []
        nextToken = try c.decodeIfPresent(String.self, forKey: .nextToken)
    }
}

public struct ListCommandsOutput: Decodable, Sendable {
    public var commands: [SSMCommand]
    public var nextToken: String?
    enum CodingKeys: String, CodingKey { case commands = "Commands", nextToken = "NextToken" }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        commands = try c.decodeIfPresent([SSMCommand].self, forKey: .commands) ?? []
        nextToken = try c.decodeIfPresent(String.self, forKey: .nextToken)
    }
}

/// A filter for ListCommands / ListCommandInvocations (`key`/`value`).
public struct CommandFilter: Encodable, Sendable {
    public var key: String
    public var value: String
    public init(key: String, value: String) { self.key = key; self.value = value }
    enum CodingKeys: String, CodingKey { case key, value }
}

/// A filter for DescribeInstanceInformation (`Key`/`Values`).
public struct InstanceInformationFilter: Encodable, Sendable {
    public var key: String
    public var values: [String]
    public init(key: String, values: [String]) { self.key = key; self.values = values }
    enum CodingKeys: String, CodingKey { case key = "Key", values = "Values" }
}

public struct InstanceInformation: Decodable, Sendable, Equatable {
    public var instanceId: String
    public var pingStatus: String?
    public var lastPingDateTime: Double?
    public var agentVersion: String?
    public var isLatestVersion: Bool?
    public var platformType: String?
    public var platformName: String?
    public var platformVersion: String?
    public var computerName: String?
    public var ipAddress: String?
    public var resourceType: String?

    enum CodingKeys: String, CodingKey {
        case instanceId = "InstanceId", pingStatus = "PingStatus", lastPingDateTime = "LastPingDateTime"
        case agentVersion = "AgentVersion", isLatestVersion = "IsLatestVersion", platformType = "PlatformType"
        case platformName = "PlatformName", platformVersion = "PlatformVersion", computerName = "ComputerName"
        case ipAddress = "IPAddress", resourceType = "ResourceType"
    }
}

public struct DescribeInstanceInformationOutput: Decodable, Sendable {
    public var instanceInformationList: [InstanceInformation]
    public var nextToken: String?
    enum CodingKeys: String, CodingKey { case instanceInformationList = "InstanceInformationList", nextToken = "NextToken" }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        instanceInformationList = try c.decodeIfPresent([InstanceInformation].self, forKey: .instanceInformationList) ?? []
        nextToken = try c.decodeIfPresent(String.self, forKey: .nextToken)
    }
}

/// A Parameter Store parameter. Its value may be a secret: `description` never shows it.
public struct SSMParameter: Decodable, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public var name: String
    public var type: String
    public var value: String
    public var version: Int?
    enum CodingKeys: String, CodingKey { case name = "Name", type = "Type", value = "Value", version = "Version" }
    public var description: String { "SSMParameter(name: \(name), type: \(type), version: \(version.map(String.init) ?? "?"), value: <redacted>)" }
    public var debugDescription: String { description }
}

struct GetParameterOutput: Decodable { var parameter: SSMParameter
    enum CodingKeys: String, CodingKey { case parameter = "Parameter" } }
