/// What the ledger holds, as plain values.
public struct RunRecord: Sendable, Equatable {
    public var id: String
    public var planName: String
    public var planPath: String
    public var planSha256: String
    public var status: String
    public var createdAt: String
    public var updatedAt: String
    public var finishedAt: String?

    public init(id: String, planName: String, planPath: String, planSha256: String, status: String, createdAt: String,
                updatedAt: String, finishedAt: String?) {
        self.id = id
        self.planName = planName
        self.planPath = planPath
        self.planSha256 = planSha256
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
    }
}

public struct StepRecord: Sendable, Equatable {
    public var runId: String
    public var name: String
    public var status: String
    public var startedAt: String
    public var finishedAt: String?
    public var error: String?
    /// The step's typed state, as JSON, so a resumed run carries on from it.
    public var stateJSON: String?
}

/// One SendCommand. `parametersJSON` never holds a secret: secrets are Parameter Store names read on the guest.
public struct CommandRecord: Sendable, Equatable {
    public var commandId: String
    public var runId: String?
    public var step: String
    public var payload: String
    public var version: String
    public var payloadSha256: String
    public var nonce: String
    public var instanceIds: [String]
    public var parametersJSON: String
    public var sentAt: String

    public init(commandId: String, runId: String?, step: String, payload: String, version: String, payloadSha256: String,
                nonce: String, instanceIds: [String], parametersJSON: String, sentAt: String) {
        self.commandId = commandId
        self.runId = runId
        self.step = step
        self.payload = payload
        self.version = version
        self.payloadSha256 = payloadSha256
        self.nonce = nonce
        self.instanceIds = instanceIds
        self.parametersJSON = parametersJSON
        self.sentAt = sentAt
    }
}

/// One instance's part of a command, as last seen.
public struct InvocationRecord: Sendable, Equatable {
    public var commandId: String
    public var instanceId: String
    public var status: String
    public var statusDetails: String?
    public var responseCode: Int?
    public var output: String?
    /// The envelope verdict: verified, truncated, tampered, stale, missing (nil while running).
    public var verdict: String?
    public var resultJSON: String?
    public var startedAt: String?
    public var finishedAt: String?
    public var updatedAt: String

    public init(commandId: String, instanceId: String, status: String, statusDetails: String? = nil,
                responseCode: Int? = nil, output: String? = nil, verdict: String? = nil, resultJSON: String? = nil,
                startedAt: String? = nil, finishedAt: String? = nil, updatedAt: String) {
        self.commandId = commandId
        self.instanceId = instanceId
        self.status = status
        self.statusDetails = statusDetails
        self.responseCode = responseCode
        self.output = output
        self.verdict = verdict
        self.resultJSON = resultJSON
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.updatedAt = updatedAt
    }
}

/// An AWS resource a run created: resume and cleanup find it here, so nothing is created twice or lost.
public struct ResourceRecord: Sendable, Equatable {
    public var kind: String
    public var id: String
    public var runId: String
    public var step: String
    public var createdAt: String
    public var deletedAt: String?
}

public struct EventRecord: Sendable, Equatable {
    public var seq: Int
    public var runId: String?
    public var at: String
    public var level: String
    public var step: String?
    public var message: String
}

/// Who holds a lock: a host and a process on it.
public struct LockOwner: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var pid: Int
    public init(host: String, pid: Int) { self.host = host; self.pid = pid }
    public var description: String { "process \(pid) on \(host)" }
}
