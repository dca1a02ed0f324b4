import Foundation
import ClonectlLedger

/// The report for a change ticket: header, failures, the source's downtime, a Mermaid gantt of the steps and guest
/// commands, the lineage as a Mermaid flowchart, and the recap (counts first; one row per instance and guest step
/// up to `detailLimit` instances, failures always listed).
public enum MarkdownReport {
    public static let detailLimit = 50

    public static func render(_ r: RunReport) -> String {
        var out = "# clonectl run \(r.header.runId): \(r.header.result)\n\n"
        out += "| | |\n| --- | --- |\n"
        out += "| plan | \(cell(r.header.plan)) (`\(cell(r.header.planPath))`, sha256 `\(r.header.planSha256.prefix(12))`) |\n"
        out += "| operator | \(cell(r.header.callerArn ?? "unknown")) |\n"
        out += "| region | \(cell(r.header.region ?? "unknown")) |\n"
        out += "| started | \(r.header.startedAt) |\n"
        out += "| finished | \(r.header.finishedAt ?? "not finished") |\n"
        out += "| wall time | \(ReportRenderer.duration(r.header.wallSeconds)) |\n"
        if let d = r.sourceDowntime {
            out += "| source downtime | \(ReportRenderer.duration(d.seconds)) (\(d.instanceId) stopped \(d.stoppedAt), running again \(d.runningAt ?? "not yet")) |\n"
        }
        out += "| states | \(r.stateAsOf.phrase)\(r.stateAsOf.source == "aws" ? "" : " (`--refresh` asks AWS)") |\n"
        let t = r.totals
        out += "| guest steps | \(t.guestSteps) on \(t.instances) instances: \(t.ok) ok, \(t.changed) changed, \(t.failed) failed, \(t.reboots) reboots |\n\n"

        if !r.failures.isEmpty {
            out += "## Failures\n\n"
            for f in r.failures {
                out += "- **\(cell(f.step))**\(f.instanceId.map { " on `\($0)`" } ?? ""): \(cell(f.error))\(f.commandId.map { " (command `\($0)`)" } ?? "")  \n  Next: \(cell(f.next))\n"
                if !f.logTail.isEmpty {
                    out += "\n  ```\n" + f.logTail.suffix(10).map { "  \($0)" }.joined(separator: "\n") + "\n  ```\n"
                }
            }
            out += "\n"
        }

        out += "## Timeline\n\n```mermaid\n" + gantt(r) + "```\n\n"
        out += "| step | status | duration | waits | guest commands |\n| --- | --- | --- | --- | --- |\n"
        for s in r.timeline {
            let waits = waitGroups(s.waits).map { g in
                g.count == 1 ? "\(g[0].kind) \(ReportRenderer.duration(g[0].seconds))"
                    : g.count <= groupAbove ? g.map { "\($0.kind) \(ReportRenderer.duration($0.seconds))" }.joined(separator: ", ")
                    : "\(g[0].kind) ×\(g.count) (longest \(ReportRenderer.duration(g.compactMap(\.seconds).max())))"
            }.joined(separator: ", ")
            let commands = s.commands.map { "\($0.payload)@\($0.version) on \($0.group == "clones" ? "\($0.instanceCount) clones" : $0.group) (\(ReportRenderer.duration($0.seconds)))" }.joined(separator: ", ")
            out += "| \(s.name) | \(s.status) | \(ReportRenderer.duration(s.seconds)) | \(cell(waits)) | \(cell(commands)) |\n"
        }

        out += "\n## Lineage\n\n```mermaid\n" + ReportRenderer.mermaidFlowchart(r.lineage) + "```\n\n"
        for e in r.stateAsOf.errors { out += "> **State not read from AWS:** \(cell(e))\n\n" }
        let refreshed = r.stateAsOf.source == "aws"
        out += "| kind | id | name | private IP | host name | state (recorded) |\(refreshed ? " state now |" : "")\n"
        out += "| --- | --- | --- | --- | --- | --- |\(refreshed ? " --- |" : "")\n"
        for n in r.lineage.nodes {
            out += "| \(ReportRenderer.kindTitle(n.kind)) | `\(n.id)` | \(cell(n.name ?? "")) | \(n.privateIp ?? "") | \(cell(n.hostName ?? "")) | \(n.state) |"
            out += refreshed ? " \(n.stateNow ?? "not read") |\n" : "\n"
        }
        out += "\nStates \(r.stateAsOf.phrase).\n"

        out += "\n## Guest steps per instance\n\n"
        let shown = r.instances.filter(\.failed) + r.instances.filter { !$0.failed }.prefix(detailLimit)
        if shown.count < r.instances.count {
            out += "Showing the \(r.instances.filter(\.failed).count) failed instances and \(shown.count - r.instances.filter(\.failed).count) of the others; the JSON report has all \(r.instances.count).\n\n"
        }
        out += "| instance | step | payload | result | changed | envelope | command |\n| --- | --- | --- | --- | --- | --- | --- |\n"
        for i in shown {
            for g in i.steps {
                let changes = g.changes.map { "\($0.item): \($0.from) → \($0.to)" }.joined(separator: "; ")
                out += "| \(cell(i.name ?? i.role)) `\(i.instanceId)`\(ReportRenderer.stateNote(i)) | \(g.step) | \(g.payload)@\(g.version) `\(g.payloadSha256.prefix(12))` | \(g.result) | \(cell(changes)) | \(g.verdict ?? "–") | `\(g.commandId)` |\n"
            }
        }
        return out
    }

    /// A Mermaid gantt: one section per step, its waits and guest commands as tasks, in seconds from the run's start.
    static func gantt(_ r: RunReport) -> String {
        guard let origin = UTCTimestamp.parse(r.header.startedAt) else { return "gantt\n" }
        func at(_ t: String?) -> Int? { t.flatMap(UTCTimestamp.parse).map { Int(($0.timeIntervalSince(origin) * 1000).rounded()) } }
        var out = "gantt\n  dateFormat x\n  axisFormat %M:%S\n"
        for s in r.timeline {
            guard let start = at(s.startedAt) else { continue }
            let end = max(at(s.finishedAt) ?? start, start + 1)
            out += "  section \(ReportRenderer.mermaidEscape(s.name))\n"
            out += "  \(taskName(s.name)) :\(s.status == "failed" ? "crit, " : "")\(start), \(end)\n"
            for g in waitGroups(s.waits) {
                if g.count > groupAbove {
                    // 500 clones' reboots: one task from the first start to the last end, counted.
                    let starts = g.compactMap { at($0.startedAt) }, ends = g.compactMap { at($0.finishedAt) ?? at($0.startedAt) }
                    guard let a = starts.min() else { continue }
                    out += "  wait \(taskName(g[0].kind)) ×\(g.count) :active, \(a), \(max(ends.max() ?? a, a + 1))\n"
                    continue
                }
                for w in g {
                    guard let a = at(w.startedAt) else { continue }
                    out += "  wait \(taskName(w.kind)) :active, \(a), \(max(at(w.finishedAt) ?? a, a + 1))\n"
                }
            }
            for c in s.commands {
                guard let a = at(c.sentAt) else { continue }
                out += "  \(taskName(c.payload)) on \(c.group) :\(c.failed > 0 ? "crit, " : "done, ")\(a), \(max(at(c.finishedAt) ?? a, a + 1))\n"
            }
        }
        return out
    }

    /// Waits of one kind past this many in a step are one line (gantt) or one count (table): a fleet stays readable.
    static let groupAbove = 3

    /// A step's waits by kind, in order of each kind's first wait.
    static func waitGroups(_ waits: [RunReport.Wait]) -> [[RunReport.Wait]] {
        var kinds: [String] = []
        for w in waits where !kinds.contains(w.kind) { kinds.append(w.kind) }
        return kinds.map { k in waits.filter { $0.kind == k } }
    }

    static func taskName(_ s: String) -> String { s.replacingOccurrences(of: ":", with: " ").replacingOccurrences(of: "#", with: " ") }

    /// A table cell: pipes escaped, line breaks flattened.
    static func cell(_ s: String) -> String {
        s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: " ")
    }
}
