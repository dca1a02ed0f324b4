import Foundation
import ClonectlLedger

/// The report as one self-contained HTML page: inline CSS and SVG, no script, no external reference, printable.
/// Plain string building; every text from the ledger goes through `h()`.
///
/// Big runs stay readable: the timeline draws one row per guest command group (a fleet step's commands of 50 side by
/// side on one row, never a row per instance), the lineage shows the first clones and counts the rest, and the recap
/// shows counts and failures first, the full per-instance table folded away (`<details>`, no script).
public enum HTMLReport {
    /// Clones drawn in the lineage graph; the rest are counted in one node (all are in the table below it).
    public static let lineageCloneLimit = 8
    /// Instances listed open in the recap; past this the table is folded into `<details>`.
    public static let openRecapLimit = 20

    public static func render(_ r: RunReport) -> String {
        page(title: "clonectl \(r.header.plan) \(r.header.runId): \(r.header.result)",
             body: body(r) + "<footer>clonectl report · \(h(r.header.runId)) · generated from the ledger; schema v\(r.schemaVersion)</footer>\n")
    }

    /// The document around a body: the one stylesheet, no script.
    static func page(title: String, body: String) -> String {
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        out += "<title>\(h(title))</title>\n"
        out += "<style>\n\(css)</style>\n</head>\n<body>\n" + body
        return out + "</body>\n</html>\n"
    }

    /// One run's sections. `idPrefix` keeps element ids unique when several runs share a page (`report --plan`).
    static func body(_ r: RunReport, idPrefix: String = "") -> String {
        var out = header(r)
        out += failures(r).replacingOccurrences(of: "<section id=\"failures\">", with: "<section id=\"\(idPrefix)failures\">")
        out += "<section id=\"\(idPrefix)timeline\"><h2>Timeline</h2>\n" + HTMLTimeline.svg(r, idPrefix: idPrefix) + "</section>\n"
        out += "<section id=\"\(idPrefix)lineage\"><h2>Lineage</h2>\n" + HTMLLineage.svg(r.lineage, cloneLimit: lineageCloneLimit, idPrefix: idPrefix)
            + stateErrors(r.stateAsOf) + lineageTable(r.lineage, refreshed: r.stateAsOf.source == "aws")
            + "<p class=\"asof\">States \(h(r.stateAsOf.phrase)).</p></section>\n"
        out += recap(r).replacingOccurrences(of: "<section id=\"recap\">", with: "<section id=\"\(idPrefix)recap\">")
        return out
    }

    static func header(_ r: RunReport) -> String {
        let t = r.totals
        var out = "<header>\n<div class=\"title\"><span class=\"badge \(statusClass(r.header.result))\">\(h(r.header.result))</span>"
        out += "<h1>\(h(r.header.plan)) <small>\(h(r.header.runId))</small></h1></div>\n<div class=\"kpis\">\n"
        out += kpi("wall time", ReportRenderer.duration(r.header.wallSeconds), "")
        if let d = r.sourceDowntime {
            out += kpi("source downtime", ReportRenderer.duration(d.seconds), d.runningAt == nil ? "bad" : "warn")
        }
        out += kpi("clones", "\(r.lineage.nodes.filter { $0.kind == "clone" }.count)", "")
        out += kpi("guest steps", "\(t.guestSteps)", "")
        out += kpi("changed", "\(t.changed)", "info")
        out += kpi("failed", "\(t.failed)", t.failed > 0 ? "bad" : "good")
        out += kpi("3010 reboots", "\(t.reboots)", "")
        out += "</div>\n<dl class=\"facts\">\n"
        let facts: [(String, String)] = [
            ("operator", r.header.callerArn ?? "unknown"), ("region", r.header.region ?? "unknown"),
            ("started", r.header.startedAt), ("finished", r.header.finishedAt ?? "not finished"),
            ("plan file", r.header.planPath), ("plan sha256", r.header.planSha256),
            ("states", r.stateAsOf.phrase + (r.stateAsOf.source == "aws" ? "" : " (--refresh asks AWS)")),
        ]
        for (k, v) in facts { out += "<dt>\(h(k))</dt><dd>\(h(v))</dd>\n" }
        return out + "</dl>\n</header>\n"
    }

    static func kpi(_ label: String, _ value: String, _ tone: String) -> String {
        "<div class=\"kpi \(tone)\"><b>\(h(value))</b><span>\(h(label))</span></div>\n"
    }

    static func failures(_ r: RunReport) -> String {
        guard !r.failures.isEmpty else { return "" }
        var out = "<section id=\"failures\"><h2>Failures</h2>\n"
        for f in r.failures.prefix(50) {
            out += "<div class=\"failure\"><h3>\(h(f.step))\(f.instanceId.map { " on <code>\(h($0))</code>" } ?? "")</h3>"
            out += "<p>\(h(f.error))</p>"
            if !f.logTail.isEmpty { out += "<pre>\(h(f.logTail.suffix(10).joined(separator: "\n")))</pre>" }
            out += "<p class=\"next\">Next: \(h(f.next))</p></div>\n"
        }
        if r.failures.count > 50 { out += "<p>… and \(r.failures.count - 50) more failures (all in the JSON report).</p>\n" }
        return out + "</section>\n"
    }

    static func stateErrors(_ s: RunReport.StateAsOf) -> String {
        s.errors.map { "<div class=\"failure\"><p><b>State not read from AWS:</b> \(h($0))</p></div>\n" }.joined()
    }

    static func lineageTable(_ l: RunReport.Lineage, refreshed: Bool) -> String {
        var out = "<table class=\"lineage\"><thead><tr><th>kind</th><th>id</th><th>name</th><th>private IP</th><th>host name</th><th>state (recorded)</th>\(refreshed ? "<th>state now</th>" : "")</tr></thead><tbody>\n"
        for n in l.nodes {
            out += "<tr><td>\(h(ReportRenderer.kindTitle(n.kind)))</td><td><code>\(h(n.id))</code></td><td>\(h(n.name ?? ""))</td>"
            out += "<td>\(h(n.privateIp ?? ""))</td><td>\(h(n.hostName ?? ""))</td><td><span class=\"state \(h(n.state))\">\(h(n.state))</span></td>"
            if refreshed { out += "<td><span class=\"state now \(h(n.stateNow ?? "unread"))\">\(h(n.stateNow ?? "not read"))</span></td>" }
            out += "</tr>\n"
        }
        return out + "</tbody></table>\n"
    }

    static func recap(_ r: RunReport) -> String {
        var out = "<section id=\"recap\"><h2>Guest steps</h2>\n"
        // Counts first: per step, how many instances were ok, changed, failed.
        var perStep: [(String, [String: Int])] = []
        for i in r.instances {
            for g in i.steps {
                if let n = perStep.firstIndex(where: { $0.0 == g.step }) { perStep[n].1[g.result, default: 0] += 1 }
                else { perStep.append((g.step, [g.result: 1])) }
            }
        }
        out += "<table class=\"counts\"><thead><tr><th>step</th><th>ok</th><th>changed</th><th>failed</th><th>other</th></tr></thead><tbody>\n"
        for (step, c) in perStep {
            let other = c.filter { !["ok", "changed", "failed"].contains($0.key) }.values.reduce(0, +)
            out += "<tr><td>\(h(step))</td><td class=\"num\">\(c["ok"] ?? 0)</td><td class=\"num\">\(c["changed"] ?? 0)</td>"
            out += "<td class=\"num\(c["failed", default: 0] > 0 ? " bad" : "")\">\(c["failed"] ?? 0)</td><td class=\"num\">\(other)</td></tr>\n"
        }
        out += "</tbody></table>\n"
        let failed = r.instances.filter(\.failed)
        if !failed.isEmpty {
            out += "<h3>Failed instances (\(failed.count))</h3>\n" + recapTable(failed)
        }
        let rest = r.instances.filter { !$0.failed }
        if rest.count > openRecapLimit {
            out += "<details><summary>All \(rest.count) other instances, step by step</summary>\n" + recapTable(rest) + "</details>\n"
        } else if !rest.isEmpty {
            out += "<h3>Per instance</h3>\n" + recapTable(rest)
        }
        return out + "</section>\n"
    }

    static func recapTable(_ list: [RunReport.InstanceRecap]) -> String {
        var out = "<table class=\"recap\"><thead><tr><th>instance</th><th>step</th><th>result</th><th>what changed</th><th>envelope</th><th>payload</th><th>command</th></tr></thead><tbody>\n"
        for i in list {
            for (n, g) in i.steps.enumerated() {
                out += "<tr>"
                if n == 0 {
                    out += "<td rowspan=\"\(i.steps.count)\" class=\"inst\"><b>\(h(i.name ?? i.role))</b><br><code>\(h(i.instanceId))</code>\(h(ReportRenderer.stateNote(i)))</td>"
                }
                let changes = g.changes.map { "<span class=\"chg\">\(h($0.item))</span> \(h($0.from)) → <b>\(h($0.to))</b>" }.joined(separator: "<br>")
                let errors = g.errors.map { "<span class=\"err\">\(h($0))</span>" }.joined(separator: "<br>")
                out += "<td>\(h(g.step))</td><td><span class=\"badge \(statusClass(g.result))\">\(h(g.result))</span></td>"
                out += "<td>\(changes)\(changes.isEmpty || errors.isEmpty ? "" : "<br>")\(errors)</td>"
                out += "<td>\(h(g.verdict ?? "–"))</td>"
                out += "<td><code>\(h(g.payload))@\(h(g.version))</code><br><code class=\"sha\" title=\"\(h(g.payloadSha256))\">\(h(String(g.payloadSha256.prefix(16))))…</code></td>"
                out += "<td><code class=\"cmd\">\(h(g.commandId))</code></td></tr>\n"
            }
        }
        return out + "</tbody></table>\n"
    }

    static func statusClass(_ s: String) -> String {
        switch s {
        case "succeeded", "ok", "verified", "done": return "good"
        case "changed", "reboot-pending": return "info"
        case "failed", "tampered", "truncated", "stale", "missing", "timeout": return "bad"
        case "running", "interrupted": return "warn"
        default: return "muted"
        }
    }

    /// HTML text and attribute escaping.
    public static func h(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters other than tab and line ends never reach the page.
                if c.value < 0x20 && c != "\n" && c != "\t" { out += "\u{FFFD}" } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }

    static let css = """
    :root { --good:#1e8e3e; --bad:#d93025; --warn:#f29900; --info:#1a73e8; --muted:#80868b; --wait:#bdc1c6; --ink:#202124; --line:#e0e3e7; }
    * { box-sizing: border-box; }
    body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--ink); margin: 0 auto; padding: 24px 32px; max-width: 1280px; background: #fff; }
    h1 { font-size: 24px; margin: 0; } h1 small { color: var(--muted); font-weight: 400; font-size: 15px; margin-left: 8px; }
    h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
    h3 { font-size: 15px; margin: 16px 0 6px; }
    .title { display: flex; align-items: center; gap: 14px; }
    .badge { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: 600; font-size: 12px; color: #fff; background: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
    .title .badge { font-size: 15px; padding: 4px 14px; }
    .badge.good { background: var(--good); } .badge.bad { background: var(--bad); } .badge.warn { background: var(--warn); } .badge.info { background: var(--info); }
    .kpis { display: flex; flex-wrap: wrap; gap: 12px; margin: 18px 0 12px; }
    .kpi { border: 1px solid var(--line); border-left: 5px solid var(--muted); border-radius: 6px; padding: 8px 16px; min-width: 120px; }
    .kpi b { display: block; font-size: 22px; } .kpi span { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
    .kpi.good { border-left-color: var(--good); } .kpi.bad { border-left-color: var(--bad); } .kpi.warn { border-left-color: var(--warn); } .kpi.info { border-left-color: var(--info); }
    .facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; font-size: 13px; }
    .facts dt { color: var(--muted); } .facts dd { margin: 0; font-family: ui-monospace, Menlo, Consolas, monospace; word-break: break-all; }
    .failure { border: 1px solid #f5c2be; background: #fce8e6; border-radius: 6px; padding: 8px 14px; margin: 8px 0; }
    .failure h3 { margin: 4px 0; color: var(--bad); } .failure pre { background: #fff; padding: 6px; overflow-x: auto; font-size: 12px; } .next { font-style: italic; }
    svg { display: block; max-width: 100%; height: auto; }
    svg text { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
    table { border-collapse: collapse; width: 100%; margin: 8px 0 12px; font-size: 13px; }
    th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
    th { background: #f8f9fa; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; } td.bad { color: var(--bad); font-weight: 700; }
    td.inst { background: #fafbfc; }
    code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; } code.sha, code.cmd { color: var(--muted); font-size: 11px; }
    .chg { color: var(--info); font-weight: 600; } .err { color: var(--bad); }
    .state { font-size: 12px; padding: 1px 6px; border-radius: 8px; background: #eef; } .state.deleted { background: #eee; color: var(--muted); } .state.running, .state.available { background: #e6f4ea; } .state.stopped { background: #fef7e0; } .state.gone, .state.terminated, .state.deregistered { background: #eee; color: var(--muted); } .state.unread { background: #fce8e6; } .asof { color: var(--muted); font-size: 12px; }
    details summary { cursor: pointer; color: var(--info); margin: 8px 0; }
    footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
    @media print { body { padding: 0; max-width: none; } details > *:not(summary) { display: revert; } section { break-inside: avoid-page; } }

    """
}
