/// The run report as data: one value built from the ledger (ReportBuilder), rendered as JSON, Markdown, DOT, Mermaid
/// or HTML. JSON is this type encoded with sorted keys; its schema is docs/report.schema.json (`schemaVersion` bumps on
/// any change that is not an added optional member).
public struct RunReport: Codable, Sendable, Equatable {
    public static let currentSchemaVersion = 1

    public var schemaVersion = RunReport.currentSchemaVersion
    public var header: Header
    /// Where the states in the lineage and the recap come from: the ledger (as recorded at the run's last update) or
    /// AWS (`report --refresh`, at the time of the refresh).
    public var stateAsOf: StateAsOf
    /// Failed steps and failed guest steps, first thing shown when the run failed.
    public var failures: [Failure]
    /// The live source's downtime: from the moment it was stopped until it ran again.
    public var sourceDowntime: Downtime?
    /// The workflow's steps in run order, each with its waits and guest commands.
    public var timeline: [TimelineStep]
    public var lineage: Lineage
    public var totals: Totals
    /// One entry per instance a guest step ran on: failures first, then source, work copy, clones by name.
    public var instances: [InstanceRecap]

    public struct Header: Codable, Sendable, Equatable {
        public var plan: String
        public var planPath: String
        public var planSha256: String
        public var runId: String
        /// The caller ARN at the run's start (GetCallerIdentity); nil when the ledger predates it or STS did not answer.
        public var callerArn: String?
        public var region: String?
        public var startedAt: String
        public var finishedAt: String?
        public var wallSeconds: Double?
        /// The run's status: succeeded, failed, interrupted, cleaned, running.
        public var result: String
    }

    public struct StateAsOf: Codable, Sendable, Equatable {
        /// ledger or aws.
        public var source: String
        public var at: String
        /// AWS errors met while refreshing (the states they hid have no `stateNow`).
        public var errors: [String]

        public init(source: String, at: String, errors: [String] = []) {
            self.source = source
            self.at = at
            self.errors = errors
        }

        /// `as recorded at <time>` or `from AWS at <time>`.
        public var phrase: String { source == "aws" ? "from AWS at \(at)" : "as recorded at \(at)" }
    }

    public struct Failure: Codable, Sendable, Equatable {
        public var step: String
        public var error: String
        public var instanceId: String?
        public var commandId: String?
        public var logTail: [String]
        /// What the operator can do next.
        public var next: String
    }

    public struct Downtime: Codable, Sendable, Equatable {
        public var instanceId: String
        public var stoppedAt: String
        /// nil while the source is still down (the run stopped before restore-source).
        public var runningAt: String?
        public var seconds: Double?
    }

    public struct TimelineStep: Codable, Sendable, Equatable {
        public var name: String
        public var status: String
        public var startedAt: String
        public var finishedAt: String?
        public var seconds: Double?
        public var error: String?
        public var waits: [Wait]
        public var commands: [CommandSpan]
    }

    public struct Wait: Codable, Sendable, Equatable {
        /// image-pending, stopping, sysprep-shutdown, booting, agent-online, reboot.
        public var kind: String
        public var target: String
        public var startedAt: String
        public var finishedAt: String?
        public var seconds: Double?
        public var outcome: String?
    }

    /// One SendCommand: a payload on an instance group (the source, the work copy, or N clones), from sending to
    /// the last instance's end.
    public struct CommandSpan: Codable, Sendable, Equatable {
        public var commandId: String
        public var payload: String
        public var version: String
        /// source, work-copy, clones, or instances (a fleet step outside the run's lineage).
        public var group: String
        public var instanceCount: Int
        public var sentAt: String
        public var finishedAt: String?
        public var seconds: Double?
        public var ok: Int
        public var changed: Int
        public var failed: Int
        /// Instances whose guest step went through a 3010 reboot (status reboot-pending seen, or a reboot recorded).
        public var reboots: Int
    }

    public struct Lineage: Codable, Sendable, Equatable {
        public var nodes: [Node]
        public var edges: [Edge]

        public struct Node: Codable, Sendable, Equatable {
            /// The AWS id (i-..., ami-...).
            public var id: String
            /// source-instance, source-image, work-copy, master-image, clone.
            public var kind: String
            public var name: String?
            public var privateIp: String?
            public var hostName: String?
            /// From the ledger: running, stopped, available, deleted, missing (never created), or unknown.
            public var state: String
            /// With --refresh: the state AWS gives now (EC2's instance or image state), `gone` when AWS no longer
            /// knows the id; absent without --refresh or when the read failed (see stateAsOf.errors).
            public var stateNow: String?
        }

        public struct Edge: Codable, Sendable, Equatable {
            public var from: String
            public var to: String
            /// imaged, launched.
            public var label: String
        }
    }

    public struct Totals: Codable, Sendable, Equatable {
        public var instances: Int
        public var guestSteps: Int
        public var ok: Int
        public var changed: Int
        public var failed: Int
        public var reboots: Int
        public var waitSeconds: Double
    }

    public struct InstanceRecap: Codable, Sendable, Equatable {
        public var instanceId: String
        /// source, work-copy, clone, or instance.
        public var role: String
        public var name: String?
        /// The state as recorded (from the lineage), and with --refresh the state AWS gives now.
        public var state: String?
        public var stateNow: String?
        public var failed: Bool
        public var steps: [GuestStep]
    }

    public struct GuestStep: Codable, Sendable, Equatable {
        public var step: String
        public var payload: String
        public var version: String
        public var payloadSha256: String
        public var commandId: String
        /// ok, changed, failed, reboot-pending (from the envelope), or the SSM status when no envelope was judged.
        public var result: String
        /// The envelope verdict: verified, truncated, tampered, stale, missing.
        public var verdict: String?
        public var changes: [Change]
        public var errors: [String]
        /// Only for a failed step: the guest log's last lines.
        public var logTail: [String]
        public var startedAt: String?
        public var finishedAt: String?
    }

    public struct Change: Codable, Sendable, Equatable {
        public var item: String
        public var from: String
        public var to: String
    }
}
