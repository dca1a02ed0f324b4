import Foundation

/// SSM over JSON 1.1 (`X-Amz-Target: AmazonSSM.<Operation>`): Run Command, instance information and Parameter Store.
public struct SSMClient: Sendable {
    public let client: AWSClient

    public init(client: AWSClient) { self.client = client }

    /// Run Command's documented limit on `InstanceIds` per call.
    public static let maxInstancesPerCommand = 50

    /// Sent once (Run Command has no client token): a failure that leaves the outcome unknown surfaces with
    /// `outcomeUnknown`, and the caller looks for the command (`findCommand`) before it sends again.
    /// `beforeAttempt` runs before each attempt goes out (the caller notes that the command may now land).
    public func sendCommand(_ input: SendCommandInput,
                            beforeAttempt: (@Sendable (Int) async throws -> Void)? = nil) async throws -> SSMCommand {
        guard !input.instanceIds.isEmpty, input.instanceIds.count <= Self.maxInstancesPerCommand else {
            throw invalid("SendCommand", "InstanceIds must hold 1 to \(Self.maxInstancesPerCommand) ids, got \(input.instanceIds.count)")
        }
        if let t = input.timeoutSeconds, !(30...2_592_000).contains(t) {
            throw invalid("SendCommand", "TimeoutSeconds must be 30 to 2592000, got \(t)")
        }
        if let c = input.comment, c.count > 100 {
            throw invalid("SendCommand", "Comment must be at most 100 characters, got \(c.count)")
        }
        let out: SendCommandOutput = try await call("SendCommand", input, safety: .actsOnce, beforeAttempt: beforeAttempt)
        return out.command
    }

    /// The command sent to `instanceId` since `invokedAfter` whose Comment holds `marker` and whose parameters
    /// hold `nonce` (in the inline loader's `commands`, or as a clonectl document's `Nonce`), if Run Command has one: ListCommands by instance with an InvokedAfter filter, every page.
    public func findCommand(instanceId: String, invokedAfter: Date, marker: String, nonce: String) async throws -> SSMCommand? {
        let after = CommandFilter(key: "InvokedAfter", value: Self.filterTimestamp(invokedAfter))
        let all = try await Paginator.collect { token in
            let page = try await listCommands(instanceId: instanceId, filters: [after], maxResults: 50, nextToken: token)
            return (page.commands, page.nextToken)
        }
        return all.first { command in
            (command.comment ?? "").contains(marker)
                && ((command.parameters?["commands"] ?? []).contains { $0.contains(nonce) }
                    || command.parameters?["Nonce"] == [nonce])
        }
    }

    /// `2021-07-07T00:00:00Z`, the form the API reference gives for InvokedAfter / InvokedBefore.
    public static func filterTimestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    /// Right after SendCommand this may answer InvocationDoesNotExist for a while: that is retried as eventual consistency.
    public func getCommandInvocation(commandId: String, instanceId: String, pluginName: String? = nil) async throws -> GetCommandInvocationOutput {
        struct Input: Encodable { let CommandId: String; let InstanceId: String; let PluginName: String? }
        return try await call("GetCommandInvocation", Input(CommandId: commandId, InstanceId: instanceId, PluginName: pluginName),
                              eventualConsistency: ["InvocationDoesNotExist"])
    }

    /// One page of invocations; `details` adds each plugin's output (at most 2,500 characters).
    public func listCommandInvocations(commandId: String? = nil, instanceId: String? = nil, details: Bool = false,
                                       filters: [CommandFilter] = [], maxResults: Int? = nil,
                                       nextToken: String? = nil) async throws -> ListCommandInvocationsOutput {
        struct Input: Encodable {
            let CommandId: String?; let InstanceId: String?; let Details: Bool
            let Filters: [CommandFilter]?; let MaxResults: Int?; let NextToken: String?
        }
        return try await call("ListCommandInvocations", Input(
            CommandId: commandId, InstanceId: instanceId, Details: details,
            Filters: filters.isEmpty ? nil : filters, MaxResults: maxResults, NextToken: nextToken))
    }

    /// Every page of invocations.
    public func listAllCommandInvocations(commandId: String? = nil, instanceId: String? = nil, details: Bool = false,
                                          filters: [CommandFilter] = [], pageSize: Int = 50) async throws -> [CommandInvocation] {
        try await Paginator.collect { token in
            let page = try await listCommandInvocations(commandId: commandId, instanceId: instanceId, details: details,
                                                        filters: filters, maxResults: pageSize, nextToken: token)
            return (page.commandInvocations, page.nextToken)
        }
    }

    public func listCommands(commandId: String? = nil, instanceId: String? = nil, filters: [CommandFilter] = [],
                             maxResults: Int? = nil, nextToken: String? = nil) async throws -> ListCommandsOutput {
        struct Input: Encodable {
            let CommandId: String?; let InstanceId: String?; let Filters: [CommandFilter]?
            let MaxResults: Int?; let NextToken: String?
        }
        return try await call("ListCommands", Input(CommandId: commandId, InstanceId: instanceId,
                                                    Filters: filters.isEmpty ? nil : filters,
                                                    MaxResults: maxResults, NextToken: nextToken))
    }

    public func cancelCommand(commandId: String, instanceIds: [String]? = nil) async throws {
        struct Input: Encodable { let CommandId: String; let InstanceIds: [String]? }
        let _: Empty = try await call("CancelCommand", Input(CommandId: commandId, InstanceIds: instanceIds))
    }

    public func describeInstanceInformation(filters: [InstanceInformationFilter] = [], maxResults: Int? = nil,
                                            nextToken: String? = nil) async throws -> DescribeInstanceInformationOutput {
        struct Input: Encodable { let Filters: [InstanceInformationFilter]?; let MaxResults: Int?; let NextToken: String? }
        return try await call("DescribeInstanceInformation", Input(Filters: filters.isEmpty ? nil : filters,
                                                                   MaxResults: maxResults, NextToken: nextToken))
    }

    /// Every page of instance information matching `filters`.
    public func describeAllInstanceInformation(filters: [InstanceInformationFilter] = []) async throws -> [InstanceInformation] {
        try await Paginator.collect { token in
            let page = try await describeInstanceInformation(filters: filters, maxResults: 50, nextToken: token)
            return (page.instanceInformationList, page.nextToken)
        }
    }

    /// Reads a parameter. The value of a SecureString is a secret: never log it.
    public func getParameter(name: String, withDecryption: Bool = true) async throws -> SSMParameter {
        struct Input: Encodable { let Name: String; let WithDecryption: Bool }
        let out: GetParameterOutput = try await call("GetParameter", Input(Name: name, WithDecryption: withDecryption))
        return out.parameter
    }

    private struct Empty: Decodable {}

    /// One JSON 1.1 call (internal: SSMDocuments.swift's `documentCall` goes through it).
    func call<I: Encodable, O: Decodable>(_ operation: String, _ input: I, eventualConsistency: Set<String> = [],
                                                  safety: CallSafety = .idempotent,
                                                  beforeAttempt: (@Sendable (Int) async throws -> Void)? = nil) async throws -> O {
        try await JSONProtocol.call(client: client, targetPrefix: "AmazonSSM", operation: operation, input: input,
                                    eventualConsistency: eventualConsistency, safety: safety, beforeAttempt: beforeAttempt)
    }

    private func invalid(_ operation: String, _ message: String) -> AWSError {
        AWSError(kind: .invalidRequest, code: "InvalidParameter", message: message, service: "ssm", operation: operation)
    }
}

/// Follows NextToken until the last page. Guards against a service that repeats a token forever.
enum Paginator {
    static func collect<T>(maxPages: Int = 10_000,
                           _ page: (String?) async throws -> ([T], String?)) async throws -> [T] {
        var all: [T] = []
        var token: String?
        var seen = Set<String>()
        for _ in 0..<maxPages {
            let (items, next) = try await page(token)
            all.append(contentsOf: items)
            guard let next, !next.isEmpty else { return all }
            guard seen.insert(next).inserted else {
                throw AWSError(kind: .malformedResponse, code: "RepeatedNextToken",
                               message: "the service returned the same NextToken twice; stopping pagination",
                               service: "", operation: "")
            }
            token = next
        }
        throw AWSError(kind: .malformedResponse, code: "TooManyPages",
                       message: "more than \(maxPages) pages; stopping pagination", service: "", operation: "")
    }
}
