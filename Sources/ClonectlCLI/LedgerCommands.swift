import ArgumentParser
import Foundation
import ClonectlAgent
import ClonectlLedger
import ClonectlWorkflow

/// `clonectl status [RUN]`: recent runs, or one run's steps, resources and last events.
public struct StatusCommand: ParsableCommand, SelectsOutput {
    public static let configuration = CommandConfiguration(commandName: "status", abstract: "Show runs and where they stand.")
    @Argument(help: "A run id (default: list recent runs).") public var runId: String?
    @OptionGroup public var store: LedgerOptions
    public init() {}

    var outputFormat: OutputFormat { store.output }

    public func run() throws {
        let l = try store.openLedger(forReading: true)
        defer { l.close() }
        guard let id = runId else {
            let runs = try l.runs()
            let rows = [["RUN", "PLAN", "STATUS", "CREATED"]] + runs.map { [$0.id, $0.planName, $0.status, $0.createdAt] }
            Output.success([("ledger", .string(l.path)), ("runs", .array(runs.map { r in
                .object([("run", .string(r.id)), ("plan", .string(r.planName)), ("status", .string(r.status)),
                         ("created", .string(r.createdAt)), ("finished", .text(r.finishedAt))])
            }))], text: runs.isEmpty ? "no runs in \(l.path)" : Table.render(rows))
            return
        }
        let r = try l.run(id: id)
        let steps = try l.steps(runId: id).sorted { RunRecap.order($0.name) < RunRecap.order($1.name) }
        let resources = try l.resources(runId: id, includeDeleted: true)
        let events = try l.events(runId: id)
        var text = ["\(r.id): plan \(r.planName) (\(r.planPath)), \(r.status), started \(r.createdAt)"]
        text += Table.render([["STEP", "STATUS", "TIME", "ERROR"]] + steps.map { s in
            [s.name, s.status, RunRecap.seconds(from: s.startedAt, to: s.finishedAt).map(RunRecap.human) ?? "-",
             s.error.map { $0.split(separator: "\n").first.map(String.init) ?? "" } ?? ""]
        }).split(separator: "\n").map { "  " + $0 }
        for res in resources { text.append("  \(res.kind) \(res.id) (\(res.step))\(res.deletedAt.map { ", deleted \($0)" } ?? "")") }
        for e in events.suffix(10) { text.append("  \(e.at) \(e.level) \(e.step ?? "-"): \(e.message)") }
        // The same recap as at the end of the run: per instance, its guest steps ok/changed/failed and reboots.
        let state = try? l.runState(id).map { try JSONDecoder().decode(RunState.self, from: Data($0.utf8)) }
        let recap = RunRecap.load(run: r, state: state ?? nil, ledger: l, wall: .zero)
        text += recap.recapLines
        Output.success([
            ("run", .string(r.id)), ("plan", .string(r.planName)), ("planPath", .string(r.planPath)), ("status", .string(r.status)),
            ("created", .string(r.createdAt)), ("finished", .text(r.finishedAt)),
            ("steps", .array(steps.map { s in
                .object([("name", .string(s.name)), ("status", .string(s.status)), ("started", .string(s.startedAt)),
                         ("finished", .text(s.finishedAt)),
                         ("seconds", RunRecap.seconds(from: s.startedAt, to: s.finishedAt).map(JSONValue.seconds) ?? .null),
                         ("error", .text(s.error))])
            })),
            ("resources", .array(resources.map { res in
                .object([("kind", .string(res.kind)), ("id", .string(res.id)), ("step", .string(res.step)),
                         ("created", .string(res.createdAt)), ("deleted", .text(res.deletedAt))])
            })),
            ("events", .array(events.suffix(50).map { e in
                .object([("at", .string(e.at)), ("level", .string(e.level)), ("step", .text(e.step)), ("message", .string(e.message))])
            })),
            ("recap", recap.recapJSON),
        ], text: text.joined(separator: "\n"))
    }
}

/// `clonectl history`: guest steps run on instances, newest first, with what each did (RESULT: ok, changed,
/// failed; a step that rebooted the instance keeps its `changed`).
public struct HistoryCommand: ParsableCommand, SelectsOutput {
    public static let configuration = CommandConfiguration(commandName: "history", abstract: "Guest steps run on instances, newest first.")
    @Option(help: "Only this instance.") public var instance: String?
    @Option(help: "Only this step (a workflow step name, or step:PAYLOAD for `clonectl step`).") public var step: String?
    @Option(name: .customLong("run"), help: "Only the guest steps of this run.") public var runId: String?
    @OptionGroup public var store: LedgerOptions
    public init() {}

    var outputFormat: OutputFormat { store.output }

    public func run() throws {
        let l = try store.openLedger(forReading: true)
        defer { l.close() }
        let rows = try l.history(instanceId: instance, step: step, runId: runId)
        let results = rows.map { GuestResult.of($0.1, command: $0.0) }
        var table = [["SENT", "INSTANCE", "STEP", "PAYLOAD", "STATUS", "ENVELOPE", "RESULT", "REBOOTS", "COMMAND", "RUN"]]
        for ((c, i), r) in zip(rows, results) {
            table.append([c.sentAt, i.instanceId, c.step, "\(c.payload)@\(c.version)", i.status, i.verdict ?? "-", r.result,
                          String(r.reboots), c.commandId, c.runId ?? "-"])
        }
        Output.success([("history", .array(zip(rows, results).map { row, r in
            let (c, i) = row
            return .object([("command", .string(c.commandId)), ("run", .text(c.runId)), ("instance", .string(i.instanceId)),
                            ("step", .string(c.step)), ("payload", .string("\(c.payload)@\(c.version)")),
                            ("status", .string(i.status)), ("verdict", .text(i.verdict)), ("result", .string(r.result)),
                            ("reboots", .int(Int64(r.reboots))), ("sent", .string(c.sentAt))])
        }))], text: rows.isEmpty ? "no guest steps recorded\(instance.map { " for \($0)" } ?? "")" : Table.render(table))
    }
}

/// `clonectl show COMMAND_ID`: a command's parameters, each instance's full output and envelope verdict.
public struct ShowCommand: ParsableCommand, SelectsOutput {
    public static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one command: parameters, outputs, verdicts.")
    @Argument(help: "The command id.") public var commandId: String
    @OptionGroup public var store: LedgerOptions
    public init() {}

    var outputFormat: OutputFormat { store.output }

    public func run() throws {
        let l = try store.openLedger(forReading: true)
        defer { l.close() }
        let c = try l.command(id: commandId)
        let invocations = try l.invocations(commandId: commandId)
        // Where the agent uploaded each invocation's whole output (the plan's `output: s3Bucket`).
        let full = Dictionary(try l.invocationOutputs(commandId: commandId).map { ($0.instanceId, $0) }) { a, _ in a }
        var text = ["command \(c.commandId): \(c.payload)@\(c.version) (sha256 \(c.payloadSha256)), step \(c.step)\(c.runId.map { " of \($0)" } ?? ""), sent \(c.sentAt)",
                    "parameters: \(c.parametersJSON)"]
        // How it reached the instances (recorded from ledger schema 5 on; nil for older commands).
        let how = try l.commandDocument(nonce: c.nonce)
        if let how {
            text.append(how.mode == "documents"
                ? "sent as document \(how.documentARN ?? how.documentName) version \(how.documentVersion ?? "?") (DocumentHash sha256 \(how.documentHash ?? "?"))"
                : "sent inline (\(how.documentName) with the loader)")
        }
        for i in invocations {
            let r = GuestResult.of(i, command: c)
            text.append("\n== \(i.instanceId): \(i.status)\(i.statusDetails.map { " (\($0))" } ?? ""), exit \(i.responseCode.map(String.init) ?? "-"), envelope \(i.verdict ?? "not judged yet"), result \(r.result)\(r.reboots > 0 ? " after \(r.reboots) reboot(s)" : "")")
            if let f = full[i.instanceId] {
                // A big completed output stays in S3: the ledger kept Run Command's copy (GuestRunner.ledgerCopy).
                let keptCut = f.completedFromS3 && (i.resultJSON?.contains("\"wholeOutput\":") ?? false)
                text.append("full output: \(f.stdoutURL)" + (f.completedFromS3
                    ? (keptCut ? " (Run Command cut it at 24,000 bytes; the envelope was read and verified from there; below is Run Command's copy, the ledger keeps no more)"
                        : " (Run Command cut it at 24,000 bytes; the envelope below was read and verified from there)") : ""))
            }
            text.append(i.output ?? "(no output recorded)")
        }
        Output.success([
            ("command", .string(c.commandId)), ("run", .text(c.runId)), ("step", .string(c.step)), ("payload", .string(c.payload)),
            ("version", .string(c.version)), ("payloadSha256", .string(c.payloadSha256)), ("instances", .strings(c.instanceIds)),
            ("parameters", (try? JSONParser.parse(c.parametersJSON)) ?? .string(c.parametersJSON)), ("sent", .string(c.sentAt)),
            ("delivery", how.map { h in
                .object([("mode", .string(h.mode)), ("document", .string(h.documentName)), ("arn", .text(h.documentARN)),
                         ("documentVersion", .text(h.documentVersion)), ("documentHash", .text(h.documentHash))])
            } ?? .null),
            ("invocations", .array(invocations.map { i in
                let r = GuestResult.of(i, command: c)
                return .object([("instance", .string(i.instanceId)), ("status", .string(i.status)),
                                ("statusDetails", .text(i.statusDetails)), ("responseCode", .integer(i.responseCode)),
                                ("verdict", .text(i.verdict)), ("result", .string(r.result)), ("reboots", .int(Int64(r.reboots))),
                                ("envelope", i.resultJSON.flatMap { try? JSONParser.parse($0) } ?? .null),
                                ("output", .text(i.output)),
                                ("fullOutput", full[i.instanceId].map { f in
                                    .object([("stdout", .string(f.stdoutURL)), ("completedFromS3", .bool(f.completedFromS3))])
                                } ?? .null)])
            })),
        ], text: text.joined(separator: "\n"))
    }
}

/// A text table: a header row, then rows; each column as wide as its widest cell, so nothing is cut.
enum Table {
    static func render(_ rows: [[String]]) -> String {
        guard let columns = rows.map(\.count).max() else { return "" }
        let widths = (0..<columns).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in
                c == row.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
