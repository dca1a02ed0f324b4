import Foundation

/// JSON, DOT and Mermaid renderings of a RunReport, and the small formatting helpers every rendering shares.
public enum ReportFormat: String, CaseIterable, Sendable {
    case html, md, json, dot, mermaid
}

public enum ReportRenderer {
    public static func render(_ report: RunReport, as format: ReportFormat) throws -> String {
        switch format {
        case .json: return try json(report)
        case .md: return MarkdownReport.render(report)
        case .dot: return dot(report.lineage)
        case .mermaid: return mermaidFlowchart(report.lineage)
        case .html: return HTMLReport.render(report)
        }
    }

    /// The report as JSON: sorted keys, so two renderings of the same ledger are byte-identical.
    public static func json(_ report: RunReport) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
    }

    /// Graphviz DOT of the lineage (`dot -Tsvg`).
    public static func dot(_ lineage: RunReport.Lineage) -> String {
        var out = "digraph lineage {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n"
        for n in lineage.nodes {
            let fill = n.kind.hasSuffix("image") ? "#e8f0fe" : n.state == "deleted" ? "#eeeeee" : "#e6f4ea"
            out += "  \"\(dotEscape(n.id))\" [label=\"\(dotEscape(label(n, separator: "\n")))\", fillcolor=\"\(fill)\"];\n"
        }
        for e in lineage.edges {
            out += "  \"\(dotEscape(e.from))\" -> \"\(dotEscape(e.to))\" [label=\"\(dotEscape(e.label))\"];\n"
        }
        return out + "}\n"
    }

    /// Mermaid flowchart of the lineage (GitHub and GitLab render it in Markdown).
    public static func mermaidFlowchart(_ lineage: RunReport.Lineage) -> String {
        var out = "flowchart LR\n"
        var keys: [String: String] = [:]
        for (n, node) in lineage.nodes.enumerated() {
            keys[node.id] = "n\(n)"
            let text = label(node, separator: "<br/>")
            out += node.kind.hasSuffix("image") ? "  n\(n)[(\"\(mermaidEscape(text))\")]\n" : "  n\(n)[\"\(mermaidEscape(text))\"]\n"
        }
        for e in lineage.edges {
            guard let a = keys[e.from], let b = keys[e.to] else { continue }
            out += "  \(a) -->|\(mermaidEscape(e.label))| \(b)\n"
        }
        return out
    }

    static func label(_ n: RunReport.Lineage.Node, separator: String) -> String {
        var parts = ["\(kindTitle(n.kind)): \(n.name ?? n.id)", n.id]
        if let ip = n.privateIp { parts.append(ip) }
        if let host = n.hostName { parts.append(host) }
        parts.append(n.stateNow.map { "\(n.state), now \($0)" } ?? n.state)
        if n.name == n.id { parts.remove(at: 1) }
        return parts.joined(separator: separator)
    }

    /// ` (running)`, ` (stopped; now terminated)`: an instance's recorded state and, refreshed, its state now.
    static func stateNote(_ i: RunReport.InstanceRecap) -> String {
        guard let state = i.state else { return i.stateNow.map { " (now \($0))" } ?? "" }
        return " (\(state)\(i.stateNow.map { "; now \($0)" } ?? ""))"
    }

    static func kindTitle(_ kind: String) -> String {
        ["source-instance": "source", "source-image": "source AMI", "work-copy": "work copy",
         "master-image": "master AMI", "clone": "clone", "round": "round", "clones": "clones"][kind] ?? kind
    }

    static func dotEscape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Mermaid labels in double quotes take `#quot;` for a quote; pipes and brackets are safe inside quotes.
    static func mermaidEscape(_ s: String) -> String {
        s.replacingOccurrences(of: "\"", with: "#quot;").replacingOccurrences(of: "\n", with: " ")
    }

    /// `4.2 s`, `3 min 05 s`, `1 h 02 min`.
    public static func duration(_ seconds: Double?) -> String {
        guard let seconds else { return "–" }
        if seconds < 60 { return String(format: "%.1f s", seconds) }
        let s = Int(seconds.rounded())
        if s < 3600 { return "\(s / 60) min \(String(format: "%02d", s % 60)) s" }
        return "\(s / 3600) h \(String(format: "%02d", (s % 3600) / 60)) min"
    }
}
