/// The lineage as an inline SVG: the chain source -> source AMI -> work copy -> master AMI on the left, the clones
/// fanned out on the right (the first `cloneLimit`, then one node counting the rest).
enum HTMLLineage {
    static let boxW = 170.0, boxH = 62.0, gapX = 40.0, gapY = 10.0

    static func svg(_ l: RunReport.Lineage, cloneLimit: Int, idPrefix: String = "") -> String {
        let chain = l.nodes.filter { $0.kind != "clone" }
        let clones = l.nodes.filter { $0.kind == "clone" }
        let shown = Array(clones.prefix(cloneLimit))
        let more = clones.count - shown.count
        let fan = shown.count + (more > 0 ? 1 : 0)
        let height = max(boxH + 20, Double(fan) * (boxH + gapY) + 10)
        let width = Double(chain.count) * (boxW + gapX) + (fan > 0 ? boxW + 10 : 0) + 10
        let midY = height / 2 - boxH / 2
        var out = "<svg class=\"lineage-graph\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(f(width)) \(f(height))\" width=\"\(f(width))\" height=\"\(f(height))\" role=\"img\" aria-label=\"Lineage: source, images, work copy and clones\">\n"
        out += "<defs><marker id=\"\(idPrefix)arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#80868b\"/></marker></defs>\n"
        out += "<style>.node rect{stroke-width:1.5}.inst rect{fill:#e6f4ea;stroke:#1e8e3e}.img rect{fill:#e8f0fe;stroke:#1a73e8}.gone rect{fill:#f1f3f4;stroke:#9aa0a6;stroke-dasharray:4 3}.stopped rect{fill:#fef7e0;stroke:#f29900}.node .k{font-size:10px;fill:#5f6368;text-transform:uppercase}.node .n{font-size:13px;font-weight:600;fill:#202124}.node .d{font-size:10.5px;fill:#3c4043;font-family:ui-monospace,Menlo,Consolas,monospace}.edge{stroke:#80868b;stroke-width:1.5;fill:none}</style>\n"
        var x = 5.0
        var lastRight: (Double, Double)?
        for n in chain {
            out += box(n, x: x, y: midY)
            if let (lx, ly) = lastRight {
                out += "<path class=\"edge\" d=\"M\(f(lx)),\(f(ly)) L\(f(x - 2)),\(f(midY + boxH / 2))\" marker-end=\"url(#\(idPrefix)arrow)\"/>\n"
            }
            lastRight = (x + boxW, midY + boxH / 2)
            x += boxW + gapX
        }
        for (i, n) in shown.enumerated() {
            let y = 5 + Double(i) * (boxH + gapY)
            out += box(n, x: x, y: y)
            if let (lx, ly) = lastRight {
                out += "<path class=\"edge\" d=\"M\(f(lx)),\(f(ly)) C\(f(lx + gapX / 2)),\(f(ly)) \(f(x - gapX / 2)),\(f(y + boxH / 2)) \(f(x - 2)),\(f(y + boxH / 2))\" marker-end=\"url(#\(idPrefix)arrow)\"/>\n"
            }
        }
        if more > 0 {
            let y = 5 + Double(shown.count) * (boxH + gapY)
            out += "<g class=\"node gone\"><rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(boxW))\" height=\"\(f(boxH))\" rx=\"8\"/><text class=\"n\" x=\"\(f(x + 10))\" y=\"\(f(y + 36))\">+ \(more) more clones</text></g>\n"
        }
        return out + "</svg>\n"
    }

    static func box(_ n: RunReport.Lineage.Node, x: Double, y: Double) -> String {
        let now = n.stateNow ?? n.state
        let cls = ["deleted", "gone", "terminated", "shutting-down", "deregistered"].contains(now) ? "gone" : n.kind.hasSuffix("image") ? "img" : now == "stopped" ? "stopped" : "inst"
        let title = [n.id, n.name, n.privateIp, n.hostName, n.state, n.stateNow.map { "now \($0)" }].compactMap { $0 }.joined(separator: " · ")
        var out = "<g class=\"node \(cls)\" data-kind=\"\(HTMLReport.h(n.kind))\"><title>\(HTMLReport.h(title))</title>"
        out += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(boxW))\" height=\"\(f(boxH))\" rx=\"8\"/>"
        out += "<text class=\"k\" x=\"\(f(x + 10))\" y=\"\(f(y + 14))\">\(HTMLReport.h(ReportRenderer.kindTitle(n.kind))) · \(HTMLReport.h(n.stateNow.map { "now \($0)" } ?? n.state))</text>"
        let name = n.name.map { HTMLTimeline.clip($0, 22) } ?? n.id
        out += "<text class=\"n\" x=\"\(f(x + 10))\" y=\"\(f(y + 31))\">\(HTMLReport.h(name))</text>"
        let detail = [n.id, [n.privateIp, n.hostName].compactMap { $0 }.joined(separator: " · ")].filter { !$0.isEmpty }
        for (i, d) in detail.prefix(2).enumerated() {
            out += "<text class=\"d\" x=\"\(f(x + 10))\" y=\"\(f(y + 45 + Double(i) * 12))\">\(HTMLReport.h(HTMLTimeline.clip(d, 26)))</text>"
        }
        return out + "</g>\n"
    }

    static func f(_ v: Double) -> String { HTMLTimeline.f(v) }
}
