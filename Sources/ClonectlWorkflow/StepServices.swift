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
        /// How long after it went out a CreateImage may still land (the HTTP attempt's timeout plus a margin).
        public var imageInFlight: Duration = .seconds(70)
        /// After a lost CreateImage answer in this process, how long to look for the image before sending again.
        public var imageLostAnswer: Duration = .seconds(10)
        /// Overrides the plan's `sysprep.shutdownTimeoutMinutes` (a local AWS only: CLONECTL_SYSPREP_SHUTDOWN_SECONDS).
        public var sysprepShutdown: Duration? = nil
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
        try await AgentWait.untilOnline(ssm: ssm, ids, configuration: waits.agentOnline, progress: progress)
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
