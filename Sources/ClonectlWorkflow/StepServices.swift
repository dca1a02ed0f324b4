import AWSCore
import Foundation

/// The AWS clients and wait limits the concrete steps share.
public struct StepServices: Sendable {
    public var ec2: EC2Client
    public var ssm: SSMClient
    public var waits: Waits

    public struct Waits: Sendable {
        public var instance = WaiterConfiguration.instanceState
        public var image = WaiterConfiguration.imageAvailable
        /// Until the SSM agent of a launched or restarted instance reports Online.
        public var agentOnline = WaiterConfiguration(minDelay: .seconds(5), maxDelay: .seconds(30), timeout: .seconds(30 * 60))
        public init() {}
    }

    public init(ec2: EC2Client, ssm: SSMClient, waits: Waits = Waits()) {
        self.ec2 = ec2
        self.ssm = ssm
        self.waits = waits
    }

    /// Waits until the instance's SSM agent is Online (Run Command can reach it).
    public func waitForAgent(_ instanceId: String, progress: (@Sendable (String) -> Void)? = nil) async throws {
        try await waitForAgents([instanceId], progress: progress)
    }

    /// Waits until every instance's SSM agent is Online: one DescribeInstanceInformation per 50 ids per round.
    public func waitForAgents(_ ids: [String], progress: (@Sendable (String) -> Void)? = nil) async throws {
        let named = ids.count == 1 ? "the SSM agent on \(ids[0])" : "the SSM agents on \(ids.count) instances"
        _ = try await Waiter.wait("\(named) to come online", configuration: waits.agentOnline,
                                  progress: progress) { () async throws -> WaitState<Bool> in
            var ping: [String: String] = [:]
            for chunk in ids.chunks(of: SSMClient.maxInstancesPerCommand) {
                let info = try await ssm.describeAllInstanceInformation(
                    filters: [InstanceInformationFilter(key: "InstanceIds", values: chunk)])
                for item in info { ping[item.instanceId] = item.pingStatus ?? "unknown" }
            }
            let waiting = ids.compactMap { id -> (id: String, state: String)? in
                guard let status = ping[id] else { return (id, "not registered with SSM yet") }
                return status == "Online" ? nil : (id, "agent \(status)")
            }
            guard let first = waiting.first else { return .done(true) }
            // One instance: its state (the caller names it); a fleet: which ones, summed up.
            return .pending(ids.count == 1 ? first.state
                                           : Waiter.summary(waiting.map { "\($0.id) \($0.state)" }, of: ids.count))
        }
    }
}

/// Tags clonectl puts on what it creates, so a run finds its own resources again (CreateImage has no client token).
enum RunTags {
    static func tags(runId: String, plan: String, role: String) -> [EC2Tag] {
        [EC2Tag("clonectl:run", runId), EC2Tag("clonectl:plan", plan), EC2Tag("clonectl:role", role)]
    }

    static func filters(runId: String, role: String) -> [EC2Filter] {
        [EC2Filter("tag:clonectl:run", [runId]), EC2Filter("tag:clonectl:role", [role])]
    }

    /// A RunInstances client token: unique per run and purpose, at most 64 ASCII characters.
    static func clientToken(runId: String, purpose: String) -> String {
        let raw = "\(runId)-\(purpose)"
        guard raw.utf8.count > 64 else { return raw }
        let digest = raw.utf8.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
        return String(raw.prefix(47)) + "-" + String(digest, radix: 16)
    }
}
