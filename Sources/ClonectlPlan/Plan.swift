/// A clone plan: what to copy, how to prepare it, and what clones to make. Read from YAML by `PlanLoader`,
/// which checks everything here before any AWS call.
public struct Plan: Sendable, Equatable {
    public var version: Int
    /// A short name for the plan: runs, tags and image names carry it.
    public var name: String
    public var region: String?
    public var source: Source
    public var prep: Prep
    public var workCopy: WorkCopy
    public var sysprep: Sysprep
    public var masterImage: MasterImage
    public var clones: [Clone]
    public var postClone: PostClone
    public var cleanup: Cleanup
    /// `payloads:` payload name -> version: run that released version instead of the latest (default: latest).
    /// The controller warns when a pinned version is superseded in the manifest.
    public var payloadPins: [String: String] = [:]
    /// `documents:` how guest steps reach the instances: inline (AWS-RunPowerShellScript, the default) or
    /// clonectl's own published documents (`clonectl documents publish`), named `prefix` + payload name.
    public var documents = DocumentDelivery()

    public struct DocumentDelivery: Sendable, Equatable {
        public enum Mode: String, Sendable, CaseIterable { case inline, documents }
        public var mode: Mode = .inline
        public var prefix: String = "clonectl-"
        public init(mode: Mode = .inline, prefix: String = "clonectl-") {
            self.mode = mode
            self.prefix = prefix
        }
    }

    /// The reference a guest step sends: NAME@VERSION when pinned, else NAME (the latest version).
    public func payloadReference(_ name: String) -> String {
        payloadPins[name].map { "\(name)@\($0)" } ?? name
    }

    public struct Source: Sendable, Equatable {
        public var instanceId: String
    }

    public struct Prep: Sendable, Equatable {
        public var workUser: WorkUser?
        /// Where the access aids (the work user, the firewall change) go. They are only needed on the isolated work
        /// copy, so by default the live source gets neither: it only has its jobs stopped (clones must not boot with
        /// production jobs enabled) and restored. `source` keeps the original placement: everything on the source.
        public var accessAidsOn: Placement
        /// Firewall profiles to turn off (recorded first in the guest journal, restored on every clone, and on the
        /// source when they were changed there).
        public var firewallProfiles: [String]
        public var tasks: [String]
        public var services: [String]

        public enum Placement: String, Sendable, Equatable {
            case workCopy
            case source
        }
    }

    public struct WorkUser: Sendable, Equatable {
        public var name: String
        /// The Parameter Store SecureString holding the password; the guest reads it itself.
        public var passwordParameter: String
    }

    public struct WorkCopy: Sendable, Equatable {
        public var subnetId: String
        public var securityGroupIds: [String]
        public var instanceProfile: String
        public var instanceType: String?
    }

    public struct Sysprep: Sendable, Equatable {
        /// How long to wait for the work copy to reach `stopped` after Sysprep started.
        public var shutdownTimeoutMinutes: Int
    }

    public struct MasterImage: Sendable, Equatable {
        /// May contain `{plan}`, `{runId}` and `{date}`.
        public var name: String
        public var description: String?
        public var tags: [String: String]
    }

    public struct Clone: Sendable, Equatable {
        public var name: String
        public var subnetId: String
        public var privateIp: String?
        public var hostName: String
        public var timeZone: String?
        public var instanceType: String?
        public var securityGroupIds: [String]
        public var instanceProfile: String?
        public var tags: [String: String]
        public var domain: Domain?
    }

    public struct Domain: Sendable, Equatable {
        public var name: String
        /// SecureString holding `DOMAIN\user`, a newline, then the password.
        public var credentialParameter: String
        public var ouPath: String?
    }

    public struct PostClone: Sendable, Equatable {
        public var restoreFirewall: Bool
        public var disableWorkUser: Bool
        public var restoreJobs: Bool
        /// Run Command's MaxConcurrency / MaxErrors for the post-clone commands.
        public var maxConcurrency: String
        public var maxErrors: String
    }

    public struct Cleanup: Sendable, Equatable {
        public var terminateWorkCopy: Bool
        /// Deregister the source's intermediate AMI and delete its snapshots once the master image exists.
        public var deregisterSourceImage: Bool
    }
}
