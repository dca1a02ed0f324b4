import Foundation

/// `report --plan` as one self-contained HTML page: the rounds table (each row links to its round's detail), the
/// lineage across rounds as an inline SVG (the source on the left; per round a row: round -> master AMI -> clones,
/// cleaned rounds greyed), then every round's full report under its anchor. No script, no external reference.
enum HTMLPlanReport {
    typealias h = HTMLReport

    static func render(_ p: PlanReport) -> String {
        var out = "<header>\n<div class=\"title\"><h1>\(h.h(p.plan)) <small>\(p.rounds.count) round\(p.rounds.count == 1 ? "" : "s")</small></h1></div>\n"
        out += "<div class=\"kpis\">\n"
        for result in ["succeeded", "failed", "cleaned", "interrupted", "running"] {
            let n = p.rounds.filter { $0.result == result }.count
            if n > 0 { out += h.kpi(result, "\(n)", h.statusClass(result)) }
        }
        out += h.kpi("clones made", "\(p.rounds.reduce(0) { $0 + $1.clones })", "")
        out += h.kpi("masters made", "\(p.rounds.filter { $0.masterImageId != nil }.count)", "")
        out += "</div>\n<p class=\"asof\">States \(h.h(p.stateAsOf.phrase)).</p>\n</header>\n"
        out += h.stateErrors(p.stateAsOf)
        out += "<section id=\"rounds\"><h2>Rounds</h2>\n<table class=\"rounds\"><thead><tr><th>#</th><th>run</th><th>result</th><th>started</th><th>finished</th><th>duration</th><th>operator</th><th>images made</th><th>clones</th><th>failures</th></tr></thead><tbody>\n"
        for r in p.rounds {
            out += "<tr><td class=\"num\">\(r.number)</td><td><a href=\"#\(h.h(r.anchor))\"><code>\(h.h(r.runId))</code></a></td>"
            out += "<td><span class=\"badge \(h.statusClass(r.result))\">\(h.h(r.result))</span></td>"
            out += "<td>\(h.h(r.startedAt))</td><td>\(h.h(r.finishedAt ?? "not finished"))</td><td class=\"num\">\(h.h(ReportRenderer.duration(r.wallSeconds)))</td>"
            out += "<td>\(h.h(r.callerArn ?? "unknown"))</td><td>\(r.images.map { "<code>\(h.h($0))</code>" }.joined(separator: "<br>"))</td>"
            out += "<td class=\"num\">\(r.clones)</td><td class=\"num\(r.failures > 0 ? " bad" : "")\">\(r.failures)</td></tr>\n"
        }
        out += "</tbody></table>\n</section>\n"
        out += "<section id=\"plan-lineage\"><h2>Lineage across rounds</h2>\n" + svg(p) + "</section>\n"
        for (r, run) in zip(p.rounds, p.runs) {
            out += "<article class=\"round\" id=\"\(h.h(r.anchor))\"><h2>Round \(r.number): \(h.h(r.runId))</h2>\n"
            out += h.body(run, idPrefix: r.anchor + "-") + "</article>\n"
        }
        out += "<footer>clonectl report --plan \(h.h(p.plan)) · generated from the ledger; schema v\(p.schemaVersion)</footer>\n"
        return h.page(title: "clonectl plan \(p.plan): \(p.rounds.count) rounds", body: out)
    }

    /// One row per round: round -> master AMI -> clones; every source once on the left, an edge to each of its rounds.
    static func svg(_ p: PlanReport) -> String {
        let w = HTMLLineage.boxW, hgt = HTMLLineage.boxH, gx = HTMLLineage.gapX, gy = HTMLLineage.gapY
        let byId = Dictionary(p.lineage.nodes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let sources = p.lineage.nodes.filter { $0.kind == "source-instance" }
        let rows = p.rounds.count
        let height = max(hgt + 10, Double(rows) * (hgt + gy) + 10)
        let width = 5 + 4 * (w + gx)
        var out = "<svg class=\"lineage-graph plan-lineage\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(HTMLLineage.f(width)) \(HTMLLineage.f(height))\" width=\"\(HTMLLineage.f(width))\" height=\"\(HTMLLineage.f(height))\" role=\"img\" aria-label=\"Lineage across rounds: source, each round's master AMI and clones\">\n"
        out += "<defs><marker id=\"plan-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#80868b\"/></marker></defs>\n"
        var sourceY: [String: Double] = [:]
        for (n, s) in sources.enumerated() {
            let y = sources.count == 1 ? height / 2 - hgt / 2 : 5 + Double(n) * (hgt + gy)
            sourceY[s.id] = y
            out += HTMLLineage.box(s, x: 5, y: y)
        }
        func edge(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double) -> String {
            let f = HTMLLineage.f
            return "<path class=\"edge\" d=\"M\(f(x1)),\(f(y1)) C\(f(x1 + gx / 2)),\(f(y1)) \(f(x2 - gx / 2)),\(f(y2)) \(f(x2 - 2)),\(f(y2))\" marker-end=\"url(#plan-arrow)\"/>\n"
        }
        for (n, r) in p.rounds.enumerated() {
            let y = 5 + Double(n) * (hgt + gy)
            let mid = y + hgt / 2
            if let s = r.sourceInstanceId, let sy = sourceY[s] { out += edge(5 + w, sy + hgt / 2, 5 + w + gx, mid) }
            var x = 5 + w + gx
            if let round = byId[r.runId] {
                out += "<a href=\"#\(HTMLReport.h(r.anchor))\">" + HTMLLineage.box(round, x: x, y: y).replacingOccurrences(of: "class=\"node ", with: "class=\"node round \(r.cleaned ? "gone " : "")") + "</a>"
            }
            for id in [r.masterImageId, r.clones > 0 ? "\(r.runId)/clones" : nil] {
                guard let id, let node = byId[id] else { x += w + gx; continue }
                out += edge(x + w, mid, x + w + gx, mid)
                x += w + gx
                out += HTMLLineage.box(node, x: x, y: y)
            }
        }
        return out + "</svg>\n"
    }
}
