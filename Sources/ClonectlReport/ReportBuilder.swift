import Foundation
import ClonectlLedger
import ClonectlWorkflow

/// Builds a RunReport from what the ledger holds about one run. Reads only the ledger: no AWS call.
public enum ReportBuilder {
    public static func build(ledger: Ledger, runId: String) throws -> RunReport {
        let run = try ledger.run(id: runId)
        let identity = try ledger.runIdentity(runId)
        let steps = try ledger.steps(runId: runId)
        let waits = try ledger.waits(runId: runId)
        let commands = try ledger.commands(runId: runId)
        let invocations = Dictionary(grouping: try ledger.invocations(runId: runId), by: \.commandId)
        let resources = try ledger.resources(runId: runId, includeDeleted: true)
        let state = (try ledger.runState(runId)).flatMap { try? JSONDecoder().decode(RunState.self, from: Data($0.utf8)) }
        let roles = Roles(state: state)

        let end = run.finishedAt ?? (run.status == "running" ? nil : run.updatedAt)
        let header = RunReport.Header(plan: run.planName, planPath: run.planPath, planSha256: run.planSha256, runId: run.id,
                                      callerArn: identity.callerArn, region: identity.region, startedAt: run.createdAt,
                                      finishedAt: end, wallSeconds: seconds(run.createdAt, end), result: run.status)

        // Guest steps per instance, and per command its span and counts.
        var recaps: [String: RunReport.InstanceRecap] = [:]
        var spans: [String: [RunReport.CommandSpan]] = [:]
        // 3010 reboots, drawn as waits of their step (from the guest's envelopes: see GuestResult.rebootWaits).
        var rebootWaits: [String: [RunReport.Wait]] = [:]
        for c in commands {
            let list = invocations[c.commandId] ?? []
            var span = RunReport.CommandSpan(commandId: c.commandId, payload: c.payload, version: c.version,
                                             group: roles.group(c.instanceIds), instanceCount: c.instanceIds.count,
                                             sentAt: c.sentAt, finishedAt: nil, seconds: nil, ok: 0, changed: 0, failed: 0, reboots: 0)
            for i in list {
                let guest = GuestResult(invocation: i)
                switch guest.result {
                case "ok": span.ok += 1
                case "changed": span.changed += 1
                default: if i.finishedAt != nil || guest.result == "failed" { span.failed += 1 }
                }
                span.reboots += guest.reboots
                rebootWaits[c.step, default: []] += guest.rebootWaits.map {
                    RunReport.Wait(kind: "reboot", target: i.instanceId, startedAt: $0.start, finishedAt: $0.end,
                                   seconds: seconds($0.start, $0.end), outcome: "done")
                }
                if let f = i.finishedAt, span.finishedAt.map({ f > $0 }) ?? true { span.finishedAt = f }
                let step = RunReport.GuestStep(step: c.step, payload: c.payload, version: c.version, payloadSha256: c.payloadSha256,
                                               commandId: c.commandId, result: guest.result, verdict: i.verdict,
                                               changes: guest.changes, errors: guest.errors,
                                               logTail: guest.result == "failed" ? guest.logTail : [],
                                               startedAt: i.startedAt, finishedAt: i.finishedAt)
                var recap = recaps[i.instanceId] ?? RunReport.InstanceRecap(instanceId: i.instanceId, role: roles.role(i.instanceId),
                                                                             name: roles.name(i.instanceId), failed: false, steps: [])
                recap.steps.append(step)
                recap.failed = recap.failed || guest.result == "failed"
                recaps[i.instanceId] = recap
            }
            span.seconds = seconds(c.sentAt, span.finishedAt)
            spans[c.step, default: []].append(span)
        }

        let reportWaits = waits.map { w in
            RunReport.Wait(kind: w.kind, target: w.target, startedAt: w.startedAt, finishedAt: w.finishedAt,
                           seconds: seconds(w.startedAt, w.finishedAt), outcome: w.outcome)
        }
        let timeline = steps.map { s in
            RunReport.TimelineStep(name: s.name, status: s.status, startedAt: s.startedAt, finishedAt: s.finishedAt,
                                   seconds: seconds(s.startedAt, s.finishedAt), error: s.error,
                                   waits: zip(waits, reportWaits).filter { $0.0.step == s.name }.map(\.1)
                                       + (rebootWaits[s.name] ?? []).sorted { a, b in
                                           // By instance (role, then name), not by time: a stable order for the goldens.
                                           (roles.rank(roles.role(a.target)), roles.name(a.target) ?? a.target, a.target, a.startedAt)
                                               < (roles.rank(roles.role(b.target)), roles.name(b.target) ?? b.target, b.target, b.startedAt)
                                       },
                                   commands: spans[s.name] ?? [])
        }

        // Failures: failed steps, then failed guest steps (each instance once per step).
        var failures: [RunReport.Failure] = steps.filter { $0.status == "failed" }.map { s in
            RunReport.Failure(step: s.name, error: s.error ?? "failed", instanceId: nil, commandId: nil, logTail: [],
                              next: "Fix the cause, then `clonectl run \(run.planPath)` resumes at \(s.name); `clonectl status \(run.id)` shows where it stands.")
        }
        for recap in recaps.values.sorted(by: { $0.instanceId < $1.instanceId }) {
            for g in recap.steps where g.result == "failed" {
                failures.append(RunReport.Failure(step: g.step, error: g.errors.first ?? "the guest step failed (verdict \(g.verdict ?? "none"))",
                                                  instanceId: recap.instanceId, commandId: g.commandId, logTail: g.logTail,
                                                  next: "`clonectl show \(g.commandId)` has the whole output; fix the guest and run the plan again."))
            }
        }

        let ordered = recaps.values.sorted { a, b in
            if a.failed != b.failed { return a.failed }
            if roles.rank(a.role) != roles.rank(b.role) { return roles.rank(a.role) < roles.rank(b.role) }
            return (a.name ?? a.instanceId, a.instanceId) < (b.name ?? b.instanceId, b.instanceId)
        }
        let totals = RunReport.Totals(
            instances: ordered.count, guestSteps: ordered.reduce(0) { $0 + $1.steps.count },
            ok: ordered.reduce(0) { $0 + $1.steps.filter { $0.result == "ok" }.count },
            changed: ordered.reduce(0) { $0 + $1.steps.filter { $0.result == "changed" }.count },
            failed: ordered.reduce(0) { $0 + $1.steps.filter { $0.result == "failed" }.count },
            reboots: spans.values.joined().reduce(0) { $0 + $1.reboots },
            waitSeconds: ((reportWaits + rebootWaits.values.joined()).compactMap(\.seconds).reduce(0, +) * 1000).rounded() / 1000)

        let lineage = LineageBuilder.build(state: state, steps: steps, resources: resources, commands: commands, ledger: ledger)
        let recorded = Dictionary(lineage.nodes.map { ($0.id, $0.state) }, uniquingKeysWith: { a, _ in a })
        return RunReport(header: header, stateAsOf: RunReport.StateAsOf(source: "ledger", at: run.updatedAt),
                         failures: failures,
                         sourceDowntime: downtime(state: state, steps: steps, waits: waits),
                         timeline: timeline, lineage: lineage, totals: totals,
                         instances: ordered.map { var i = $0; i.state = recorded[i.instanceId]; return i })
    }

    /// Stopped: when StopInstances was sent (the stopping wait begins right after it). Running again: when
    /// restore-source saw the source running (its booting wait ended).
    static func downtime(state: RunState?, steps: [StepRecord], waits: [WaitRecord]) -> RunReport.Downtime? {
        // restore-source clears sourceStoppedByUs once the source runs again: the stopping wait is the record.
        guard let state else { return nil }
        let stop = waits.first { $0.step == StepName.stopSource.rawValue && $0.kind == "stopping" }?.startedAt
            ?? (state.sourceStoppedByUs ? steps.first { $0.name == StepName.stopSource.rawValue }?.startedAt : nil)
        guard let stoppedAt = stop else { return nil }
        let restore = steps.first { $0.name == StepName.restoreSource.rawValue }
        let running = waits.first { $0.step == StepName.restoreSource.rawValue && $0.kind == "booting" && $0.outcome == "done" }?.finishedAt
            ?? (restore?.status == "succeeded" ? restore?.finishedAt : nil)
        return RunReport.Downtime(instanceId: state.sourceInstanceId, stoppedAt: stoppedAt, runningAt: running,
                                  seconds: seconds(stoppedAt, running))
    }

    static func seconds(_ start: String?, _ end: String?) -> Double? {
        guard let start, let end, let a = Ledger.parse(start), let b = Ledger.parse(end) else { return nil }
        return (b.timeIntervalSince(a) * 1000).rounded() / 1000
    }
}

/// Which part of the run an instance is, from the run's state.
struct Roles {
    let source: String?
    let workCopy: String?
    let cloneNames: [String: String]

    init(state: RunState?) {
        source = state?.sourceInstanceId
        workCopy = state?.workCopyInstanceId
        cloneNames = Dictionary((state?.clones ?? [:]).map { ($0.value, $0.key) }, uniquingKeysWith: { a, _ in a })
    }

    func role(_ id: String) -> String {
        id == source ? "source" : id == workCopy ? "work-copy" : cloneNames[id] != nil ? "clone" : "instance"
    }

    func name(_ id: String) -> String? { cloneNames[id] ?? (id == source ? "source" : id == workCopy ? "work copy" : nil) }

    func group(_ ids: [String]) -> String {
        let kinds = Set(ids.map(role))
        guard kinds.count == 1, let only = kinds.first else { return "instances" }
        return only == "clone" ? "clones" : only
    }

    func rank(_ role: String) -> Int { ["source": 0, "work-copy": 1, "clone": 2][role] ?? 3 }
}
