import AWSCore
import Foundation

/// The run's claim on its live source, kept as tags on the source instance itself (`clonectl:run`, `clonectl:state`),
/// so a second controller is refused even when it uses another ledger (ledger locks only see their own file).
///
/// `clonectl:state` is `held by HOST` while the run is unfinished (running, interrupted, failed: it will be resumed),
/// and `done` or `cleaned` once it finished. The source never gets a `clonectl:role` tag: cleanup and the IAM policy
/// remove only resources with a role, so this claim cannot make the source deletable.
public struct SourceClaim: Sendable {
    public static let runKey = "clonectl:run"
    public static let stateKey = "clonectl:state"
    /// The operator's opt-in: only a source tagged `clonectl:source` = `allowed` is cloned. The shipped controller
    /// policy lets clonectl stop, image, tag and send commands to a source only when it carries this tag, and denies
    /// clonectl writing or removing it, so which production instances clonectl may touch is the operator's decision,
    /// made in EC2 (controller/README.md, Security).
    public static let optInKey = "clonectl:source"
    public static let optInValue = "allowed"

    /// The source does not carry the operator's opt-in tag.
    public struct NotOptedIn: Error, CustomStringConvertible {
        public let instanceId: String
        public let found: String?
        public init(instanceId: String, found: String?) {
            self.instanceId = instanceId
            self.found = found
        }
        public var description: String {
            "the source \(instanceId) is not opted in to cloning: it needs the tag \(SourceClaim.optInKey)=\(SourceClaim.optInValue)"
                + (found.map { " (it has \(SourceClaim.optInKey)=\($0))" } ?? "")
                + ", which an operator sets (clonectl never does: its policy denies it), e.g. `aws ec2 create-tags --resources "
                + "\(instanceId) --tags Key=\(SourceClaim.optInKey),Value=\(SourceClaim.optInValue)`. The controller policy "
                + "allows stopping, imaging and commands on a source only with it"
        }
    }

    let ec2: EC2Client
    public init(ec2: EC2Client) { self.ec2 = ec2 }

    /// Another unfinished run holds the source.
    public struct Held: Error, CustomStringConvertible {
        public let instanceId: String
        public let runId: String
        public let state: String
        public var description: String {
            "the source \(instanceId) is \(state.isEmpty ? "held" : state) for run \(runId) (tags clonectl:run, clonectl:state): "
                + "another controller, perhaps with another ledger, has an unfinished run on it. Finish or clean up that run "
                + "(`clonectl status \(runId)` with its ledger), or pass --break-lock if it is gone for good"
        }
    }

    /// Refuses a source without the operator's opt-in tag, and one held by a run other than `ownRunId` (nil: a run
    /// not created yet) unless `force` (which never skips the opt-in). Read-only: it runs before the new run is even
    /// recorded.
    public func check(_ instanceId: String, ownRunId: String?, force: Bool) async throws {
        guard let source = try await ec2.describeAllInstances(instanceIds: [instanceId]).first else {
            throw WorkflowError.precondition("the source \(instanceId) was not found in this region")
        }
        guard source.tag(Self.optInKey) == Self.optInValue else {
            throw NotOptedIn(instanceId: instanceId, found: source.tag(Self.optInKey))
        }
        if let holder = source.tag(Self.runKey), holder != ownRunId {
            let state = source.tag(Self.stateKey) ?? ""
            if Self.isHeld(state), !force { throw Held(instanceId: instanceId, runId: holder, state: state) }
        }
    }

    /// Tags the source as held by `runId` from `host`.
    public func claim(_ instanceId: String, runId: String, host: String) async throws {
        try await ec2.createTags(resourceIds: [instanceId],
                                 tags: [EC2Tag(Self.runKey, runId), EC2Tag(Self.stateKey, Self.held(by: host))])
    }

    /// Marks the claim finished (`done` or `cleaned`), if this run still holds it.
    public func release(_ instanceId: String, runId: String, state: String) async throws {
        guard let source = try await ec2.describeAllInstances(instanceIds: [instanceId]).first,
              source.tag(Self.runKey) == runId else { return }
        try await ec2.createTags(resourceIds: [instanceId], tags: [EC2Tag(Self.stateKey, state)])
    }

    /// Tag values allow letters, digits, spaces and `+ - = . _ : / @`; a host name fits, cut to stay within 256.
    static func held(by host: String) -> String {
        let safe = String(host.map { $0.isLetter || $0.isNumber || "+-=._:/@".contains($0) ? $0 : "_" }.prefix(200))
        return "held by \(safe)"
    }

    /// Anything but a finished state holds the source (a missing state too: better refuse than clone twice).
    static func isHeld(_ state: String) -> Bool { !["done", "cleaned"].contains(state) }
}
