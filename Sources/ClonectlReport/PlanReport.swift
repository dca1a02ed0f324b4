import Foundation

/// `report --plan PLAN`: one document for every round of a plan. A table of the rounds (who, when, result, images,
/// clones, failures) linking to each round's detail, and the lineage across rounds: which master each round made from
/// which source, how many clones came of it, cleaned rounds marked. The rounds' own reports follow in full.
/// JSON: this type with sorted keys (docs/report.schema.json, `$defs/planReport`).
public struct PlanReport: Codable, Sendable, Equatable {
    public static let currentSchemaVersion = 1

    public var schemaVersion = PlanReport.currentSchemaVersion
    /// Always `plan`: tells this document from one run's report.
    public var kind = "plan"
    public var plan: String
    public var stateAsOf: RunReport.StateAsOf
    public var rounds: [Round]
    /// source instance -> round -> master AMI -> the round's clones (one node per round's clones).
    public var lineage: RunReport.Lineage
    /// Each round's full report, oldest first (the same order as `rounds`).
    public var runs: [RunReport]

    public struct Round: Codable, Sendable, Equatable {
        public var number: Int
        public var runId: String
        /// The fragment each round's detail has in the HTML and Markdown documents (`#run-...`).
        public var anchor: String
        public var startedAt: String
        public var finishedAt: String?
        public var wallSeconds: Double?
        /// succeeded, failed, interrupted, cleaned, running.
        public var result: String
        public var cleaned: Bool
        public var callerArn: String?
        public var region: String?
        public var sourceInstanceId: String?
        public var masterImageId: String?
        /// Every image the round made (source AMI, master AMI), in lineage order.
        public var images: [String]
        public var clones: Int
        public var guestSteps: Int
        /// Failures listed in the round's report (failed steps and failed guest steps).
        public var failures: Int
        public var sourceDowntimeSeconds: Double?
    }

    public init(plan: String, runs: [RunReport]) {
        self.plan = plan
        self.runs = runs
        // A refreshed set of runs shares one refresh; else the newest recorded time is the document's.
        stateAsOf = runs.first(where: { $0.stateAsOf.source == "aws" })?.stateAsOf
            ?? RunReport.StateAsOf(source: "ledger", at: runs.map(\.stateAsOf.at).max() ?? "")
        rounds = runs.enumerated().map { n, r in
            let nodes = r.lineage.nodes
            return Round(number: n + 1, runId: r.header.runId, anchor: Self.anchor(r.header.runId),
                         startedAt: r.header.startedAt, finishedAt: r.header.finishedAt, wallSeconds: r.header.wallSeconds,
                         result: r.header.result, cleaned: r.header.result == "cleaned",
                         callerArn: r.header.callerArn, region: r.header.region,
                         sourceInstanceId: nodes.first { $0.kind == "source-instance" }?.id,
                         masterImageId: nodes.first { $0.kind == "master-image" }?.id,
                         images: nodes.filter { $0.kind.hasSuffix("image") }.map(\.id),
                         clones: nodes.filter { $0.kind == "clone" }.count, guestSteps: r.totals.guestSteps,
                         failures: r.failures.count, sourceDowntimeSeconds: r.sourceDowntime?.seconds)
        }
        lineage = Self.crossLineage(runs)
    }

    public static func anchor(_ runId: String) -> String {
        "run-" + String(runId.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) || $0 == "-" }.map(Character.init))
            .replacingOccurrences(of: "run-", with: "", options: .anchored)
    }

    /// Nodes: each source instance once; per round a `round` node (its result as state), its master AMI, and one
    /// `clones` node counting its clones (state: how many still stand). A cleaned round's nodes carry `deleted`.
    static func crossLineage(_ runs: [RunReport]) -> RunReport.Lineage {
        var nodes: [RunReport.Lineage.Node] = []
        var edges: [RunReport.Lineage.Edge] = []
        for (n, r) in runs.enumerated() {
            let own = r.lineage.nodes
            let roundId = r.header.runId
            if let source = own.first(where: { $0.kind == "source-instance" }) {
                if !nodes.contains(where: { $0.id == source.id }) { nodes.append(source) }
                edges.append(.init(from: source.id, to: roundId, label: "round \(n + 1)"))
            }
            nodes.append(.init(id: roundId, kind: "round", name: "round \(n + 1)", state: r.header.result))
            var last = roundId
            if let master = own.first(where: { $0.kind == "master-image" }) {
                nodes.append(master)
                edges.append(.init(from: roundId, to: master.id, label: "imaged"))
                last = master.id
            }
            let clones = own.filter { $0.kind == "clone" }
            if !clones.isEmpty {
                let standing = clones.filter { !["deleted", "gone", "terminated", "shutting-down"].contains($0.stateNow ?? $0.state) }.count
                let id = "\(roundId)/clones"
                var node = RunReport.Lineage.Node(id: id, kind: "clones", name: "\(clones.count) clones",
                                                  state: standing == clones.count ? "running" : standing == 0 ? "deleted" : "\(standing) standing")
                if clones.contains(where: { $0.stateNow != nil }) {
                    node.stateNow = standing == 0 ? "gone" : "\(standing)/\(clones.count) standing"
                }
                nodes.append(node)
                edges.append(.init(from: last, to: id, label: "launched"))
            }
        }
        return RunReport.Lineage(nodes: nodes, edges: edges)
    }
}

/// The plan document's renderings: JSON, Markdown and HTML; DOT and Mermaid draw the lineage across rounds.
public enum PlanReportRenderer {
    public static func render(_ p: PlanReport, as format: ReportFormat) throws -> String {
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(p), as: UTF8.self) + "\n"
        case .md: return markdown(p)
        case .dot: return ReportRenderer.dot(p.lineage)
        case .mermaid: return ReportRenderer.mermaidFlowchart(p.lineage)
        case .html: return HTMLPlanReport.render(p)
        }
    }

    static func markdown(_ p: PlanReport) -> String {
        let cell = MarkdownReport.cell
        var out = "# clonectl plan \(cell(p.plan)): \(p.rounds.count) round\(p.rounds.count == 1 ? "" : "s")\n\n"
        out += "States \(p.stateAsOf.phrase).\n\n"
        for e in p.stateAsOf.errors { out += "> **State not read from AWS:** \(cell(e))\n\n" }
        out += "## Rounds\n\n"
        out += "| # | run | result | started | finished | duration | operator | images | clones | failures |\n"
        out += "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        for r in p.rounds {
            out += "| \(r.number) | [\(r.runId)](#\(r.anchor)) | \(r.result)\(r.cleaned ? " (cleaned)" : "") | \(r.startedAt) | \(r.finishedAt ?? "not finished") | "
            out += "\(ReportRenderer.duration(r.wallSeconds)) | \(cell(r.callerArn ?? "unknown")) | \(r.images.map { "`\($0)`" }.joined(separator: ", ")) | \(r.clones) | \(r.failures) |\n"
        }
        out += "\n## Lineage across rounds\n\n```mermaid\n" + ReportRenderer.mermaidFlowchart(p.lineage) + "```\n\n"
        out += "| round | source | master AMI | clones | state |\n| --- | --- | --- | --- | --- |\n"
        for r in p.rounds {
            let clones = p.lineage.nodes.first { $0.id == "\(r.runId)/clones" }
            out += "| [\(r.number)](#\(r.anchor)) | \(r.sourceInstanceId.map { "`\($0)`" } ?? "–") | \(r.masterImageId.map { "`\($0)`" } ?? "none") | "
            out += "\(r.clones)\(clones.map { " (\($0.stateNow ?? $0.state))" } ?? "") | \(r.cleaned ? "cleaned" : r.result) |\n"
        }
        for (r, run) in zip(p.rounds, p.runs) {
            // Each round's report, its headings one level down, under an anchor the tables link to.
            out += "\n---\n\n<a id=\"\(r.anchor)\"></a>\n\n"
            out += MarkdownReport.render(run).split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.hasPrefix("#") ? "#" + $0 : String($0) }.joined(separator: "\n")
        }
        return out
    }
}
