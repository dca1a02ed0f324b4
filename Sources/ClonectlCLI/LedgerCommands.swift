import ArgumentParser
import Foundation
import ClonectlLedger

/// `clonectl status [RUN]`: recent runs, or one run's steps, resources and last events.
public struct StatusCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "status", abstract: "Show runs and where they stand.")
    @Argument(help: "A run id (default: list recent runs).") public var runId: String?
    @OptionGroup public var store: LedgerOptions
    public init() {}

    public func run() throws {
        let l = try store.openLedger(forReading: true)
        defer { l.close() }
        let output = store.output
        guard let id = runId else {
            let runs = try l.runs()
            if output == .json {
                emitJSON(runs.map { ["run": $0.id, "plan": $0.planName, "status": $0.status, "created": $0.createdAt] })
            } else if runs.isEmpty {
                print("no runs in \(l.path)")
            } else {
                for r in runs { print("\(r.id)  \(r.planName.padding(toLength: 16, withPad: " ", startingAt: 0)) \(r.status.padding(toLength: 12, withPad: " ", startingAt: 0)) \(r.createdAt)") }
            }
            return
        }
        let r = try l.run(id: id)
        let steps = try l.steps(runId: id)
        let resources = try l.resources(runId: id, includeDeleted: true)
        let events = try l.events(runId: id)
        if output == .json {
            emitJSON([
                "run": r.id, "plan": r.planName, "status": r.status, "created": r.createdAt,
                "steps": steps.map { ["name": $0.name, "status": $0.status, "error": $0.error ?? ""] },
                "resources": resources.map { ["kind": $0.kind, "id": $0.id, "step": $0.step, "deleted": $0.deletedAt != nil] },
            ])
            return
        }
        print("\(r.id): plan \(r.planName) (\(r.planPath)), \(r.status), started \(r.createdAt)")
        for s in steps { print("  \(s.name.padding(toLength: 17, withPad: " ", startingAt: 0)) \(s.status)\(s.error.map { ": \($0)" } ?? "")") }
        for res in resources { print("  \(res.kind) \(res.id) (\(res.step))\(res.deletedAt.map { ", deleted \($0)" } ?? "")") }
        for e in events.suffix(10) { print("  \(e.at) \(e.level) \(e.step ?? "-"): \(e.message)") }
    }
}

/// `clonectl history`: guest steps run on instances, newest first.
public struct HistoryCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "history", abstract: "Guest steps run on instances, newest first.")
    @Option(help: "Only this instance.") public var instance: String?
    @Option(help: "Only this step (a workflow step name, or step:PAYLOAD for `clonectl step`).") public var step: String?
    @OptionGroup public var store: LedgerOptions
    public init() {}

    public func run() throws {
        let l = try store.openLedger(forReading: true)
        defer { l.close() }
        let output = store.output
        let rows = try l.history(instanceId: instance, step: step)
        if output == .json {
            emitJSON(rows.map { c, i in
                ["command": c.commandId, "instance": i.instanceId, "step": c.step, "payload": "\(c.payload)@\(c.version)",
                 "status": i.status, "verdict": i.verdict ?? "", "sent": c.sentAt] as [String: Any]
            })
            return
        }
        if rows.isEmpty { print("no guest steps recorded\(instance.map { " for \($0)" } ?? "")") }
        for (c, i) in rows {
            print("\(c.sentAt)  \(i.instanceId)  \(c.step.padding(toLength: 16, withPad: " ", startingAt: 0)) \("\(c.payload)@\(c.version)".padding(toLength: 24, withPad: " ", startingAt: 0)) \(i.status.padding(toLength: 9, withPad: " ", startingAt: 0)) \(i.verdict ?? "-")  \(c.commandId)")
        }
    }
}

/// `clonectl show COMMAND_ID`: a command's parameters, each instance's full output and envelope verdict.
public struct ShowCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one command: parameters, outputs, verdicts.")
    @Argument(help: "The command id.") public var commandId: String
    @OptionGroup public var store: LedgerOptions
    public init() {}

    public func run() throws {
        let l = try store.openLedger(forReading: true)
        defer { l.close() }
        let output = store.output
        let c = try l.command(id: commandId)
        let invocations = try l.invocations(commandId: commandId)
        if output == .json {
            emitJSON(["command": c.commandId, "run": c.runId ?? "", "step": c.step, "payload": c.payload, "version": c.version,
                      "payloadSha256": c.payloadSha256, "instances": c.instanceIds, "parameters": c.parametersJSON, "sent": c.sentAt,
                      "invocations": invocations.map { ["instance": $0.instanceId, "status": $0.status,
                                                        "statusDetails": $0.statusDetails ?? "", "responseCode": $0.responseCode ?? -1,
                                                        "verdict": $0.verdict ?? "", "output": $0.output ?? ""] as [String: Any] }])
            return
        }
        print("command \(c.commandId): \(c.payload)@\(c.version) (sha256 \(c.payloadSha256)), step \(c.step)\(c.runId.map { " of \($0)" } ?? ""), sent \(c.sentAt)")
        print("parameters: \(c.parametersJSON)")
        for i in invocations {
            print("\n== \(i.instanceId): \(i.status)\(i.statusDetails.map { " (\($0))" } ?? ""), exit \(i.responseCode.map(String.init) ?? "-"), envelope \(i.verdict ?? "not judged yet")")
            print(i.output ?? "(no output recorded)")
        }
    }
}

func emitJSON(_ object: Any) {
    if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted]) {
        print(String(decoding: data, as: UTF8.self))
    }
}
