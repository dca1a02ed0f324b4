import ClonectlAgent
import ClonectlLedger
import ClonectlWorkflow
import Foundation

/// The end of a run, succeeded or not, the way Ansible's PLAY RECAP and profile_tasks end a play: what was made,
/// each step with its status and duration, the wall time, and per instance how many guest steps were ok (this
/// count includes the changed ones, as Ansible's does), changed, failed, and how often a step rebooted it (3010).
struct RunRecap {
    struct Step {
        var name: String
        var status: String
        var seconds: Double?
        var error: String?
    }

    struct Instance {
        var id: String
        var role: String
        var ok = 0
        var changed = 0
        var failed = 0
        var reboots = 0
        /// Guest steps still without a verdict (the run stopped while they ran).
        var running = 0
    }

    var run: RunRecord
    var state: RunState?
    var ledgerPath: String
    var steps: [Step]
    var instances: [Instance]
    /// This invocation's wall time.
    var wallSeconds: Double

    static func load(run: RunRecord, state: RunState?, ledger: Ledger, wall: Duration) -> RunRecap {
        let steps = ((try? ledger.steps(runId: run.id)) ?? []).sorted { order($0.name) < order($1.name) }.map { s in
            Step(name: s.name, status: s.status, seconds: RunRecap.seconds(from: s.startedAt, to: s.finishedAt), error: s.error)
        }
        // The newest command of each step decides for each instance (a resumed step may have tried before).
        var latest: [String: (CommandRecord, InvocationRecord)] = [:]
        var keys: [String] = []
        for (c, i) in (try? ledger.recapInvocations(runId: run.id)) ?? [] where c.step.firstIndex(of: ":") == nil {
            let key = "\(c.step)\u{0}\(c.payload)\u{0}\(i.instanceId)"
            if latest[key] == nil { keys.append(key) }
            latest[key] = (c, i)
        }
        let roles = Self.roles(state)
        var byInstance: [String: Instance] = [:]
        var instanceOrder: [String] = []
        for key in keys {
            let (c, i) = latest[key]!
            if byInstance[i.instanceId] == nil {
                instanceOrder.append(i.instanceId)
                byInstance[i.instanceId] = Instance(id: i.instanceId, role: roles[i.instanceId] ?? "instance")
            }
            let r = GuestResult.of(i, command: c)
            switch r.result {
            case "ok": byInstance[i.instanceId]!.ok += 1
            case "changed": byInstance[i.instanceId]!.ok += 1; byInstance[i.instanceId]!.changed += 1
            case "running": byInstance[i.instanceId]!.running += 1
            default: byInstance[i.instanceId]!.failed += 1
            }
            byInstance[i.instanceId]!.reboots += r.reboots
        }
        return RunRecap(run: run, state: state, ledgerPath: ledger.path, steps: steps,
                        instances: instanceOrder.map { byInstance[$0]! },
                        wallSeconds: Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18)
    }

    static func order(_ step: String) -> Int { StepName(rawValue: step).map { StepName.allCases.firstIndex(of: $0)! } ?? 99 }

    /// Instance id -> what it is in the run: source, work-copy, clone NAME.
    static func roles(_ state: RunState?) -> [String: String] {
        guard let state else { return [:] }
        var roles: [String: String] = [state.sourceInstanceId: "source"]
        if let id = state.workCopyInstanceId { roles[id] = "work-copy" }
        for (name, id) in state.clones { roles[id] = "clone \(name)" }
        return roles
    }

    static func seconds(from start: String, to end: String?) -> Double? {
        guard let end, let a = Ledger.parse(start), let b = Ledger.parse(end) else { return nil }
        return max(0, b.timeIntervalSince(a))
    }

    var json: [(String, JSONValue)] {
        var members: [(String, JSONValue)] = [
            ("run", .string(run.id)), ("plan", .string(run.planName)), ("status", .string(run.status)),
            ("ledger", .string(ledgerPath)), ("wallSeconds", .seconds(wallSeconds)),
            ("steps", .array(steps.map { s in
                var o = JSONObject([("name", .string(s.name)), ("status", .string(s.status)),
                                    ("seconds", s.seconds.map(JSONValue.seconds) ?? .null)])
                o.set("error", ifPresent: s.error.map(JSONValue.string))
                return o.value
            })),
            ("recap", recapJSON),
        ]
        members.append(("sourceImageId", .text(state?.sourceImageId)))
        members.append(("workCopyInstanceId", .text(state?.workCopyInstanceId)))
        members.append(("masterImageId", .text(state?.masterImageId)))
        let clones = (state?.clones ?? [:]).sorted { $0.key < $1.key }
        members.append(("clones", .object(clones.map { ($0.key, .string($0.value)) })))
        return members
    }

    var text: String {
        var lines = ["", "Run \(run.id): \(run.status) (this invocation took \(Self.human(wallSeconds)))"]
        if let id = state?.sourceImageId { lines.append("  source image   \(id)") }
        if let id = state?.masterImageId { lines.append("  master image   \(id)") }
        for (name, id) in (state?.clones ?? [:]).sorted(by: { $0.key < $1.key }) { lines.append("  clone          \(name) = \(id)") }
        let width = max(17, (steps.map(\.name.count).max() ?? 0) + 2)
        lines.append("  " + "STEP".padding(toLength: width, withPad: " ", startingAt: 0) + "STATUS      TIME")
        for s in steps {
            lines.append("  " + s.name.padding(toLength: width, withPad: " ", startingAt: 0)
                         + s.status.padding(toLength: 12, withPad: " ", startingAt: 0) + (s.seconds.map(Self.human) ?? "-"))
        }
        lines += recapLines
        lines.append("  ledger         \(ledgerPath)")
        return lines.joined(separator: "\n")
    }

    /// The RECAP block: one line per instance, as Ansible's PLAY RECAP.
    var recapLines: [String] {
        guard !instances.isEmpty else { return [] }
        var lines = ["RECAP (guest steps; ok counts the changed ones too)"]
        let labels = instances.map { "\($0.role) \($0.id):" }
        let w = (labels.map(\.count).max() ?? 0) + 1
        for (label, i) in zip(labels, instances) {
            var line = "  " + label.padding(toLength: w, withPad: " ", startingAt: 0)
                + "ok=\(i.ok) changed=\(i.changed) failed=\(i.failed) reboots=\(i.reboots)"
            if i.running > 0 { line += " unfinished=\(i.running)" }
            lines.append(line)
        }
        return lines
    }

    /// The recap's instances as JSON.
    var recapJSON: JSONValue {
        .array(instances.map { i in
            .object([("instance", .string(i.id)), ("role", .string(i.role)), ("ok", .int(Int64(i.ok))),
                     ("changed", .int(Int64(i.changed))), ("failed", .int(Int64(i.failed))),
                     ("reboots", .int(Int64(i.reboots))), ("running", .int(Int64(i.running)))])
        })
    }

    static func human(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.down))
        if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m\(String(format: "%02d", s % 60))s" }
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}
