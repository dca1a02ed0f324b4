import Foundation
import ClonectlLedger

/// The timeline as an inline SVG, drawn to scale from the run's start: a bar per step, under it a row per wait kind
/// (hatched grey) and per guest command group (one row per payload and instance group; a fleet's commands of 50 are
/// segments of that one row), the source's downtime as a band across the chart.
enum HTMLTimeline {
    static let labelWidth = 230.0, chartWidth = 860.0, rightPad = 90.0
    static let stepRow = 24.0, subRow = 17.0, axisHeight = 26.0

    struct Row {
        var label: String
        var isStep: Bool
        var segments: [(start: Double, end: Double, cls: String, title: String)]
        var note: String
    }

    static func svg(_ r: RunReport, idPrefix: String = "") -> String {
        guard let origin = UTCTimestamp.parse(r.header.startedAt) else { return "<p>No timeline: the run has no start time.</p>\n" }
        func at(_ t: String?) -> Double? { t.flatMap(UTCTimestamp.parse).map { $0.timeIntervalSince(origin) } }
        var rows: [Row] = []
        var span = 1.0
        for s in r.timeline {
            guard let a = at(s.startedAt) else { continue }
            let b = at(s.finishedAt) ?? a
            span = max(span, b)
            rows.append(Row(label: s.name, isStep: true,
                            segments: [(a, b, "st-\(HTMLReport.statusClass(s.status))", "\(s.name): \(s.status), \(ReportRenderer.duration(s.seconds))")],
                            note: ReportRenderer.duration(s.seconds)))
            // Waits: one row per kind.
            var kinds: [String] = []
            for w in s.waits where !kinds.contains(w.kind) { kinds.append(w.kind) }
            for kind in kinds {
                let list = s.waits.filter { $0.kind == kind }
                let segs = list.compactMap { w -> (Double, Double, String, String)? in
                    guard let a = at(w.startedAt) else { return nil }
                    let b = at(w.finishedAt) ?? a
                    span = max(span, b)
                    return (a, b, "wait", "wait \(w.kind) on \(w.target): \(ReportRenderer.duration(w.seconds)) (\(w.outcome ?? "unfinished"))")
                }
                let total = list.compactMap(\.seconds).reduce(0, +)
                rows.append(Row(label: "wait: \(kind)", isStep: false, segments: segs, note: ReportRenderer.duration(total)))
            }
            // Guest commands: one row per payload and group.
            var groups: [String] = []
            for c in s.commands where !groups.contains("\(c.payload) on \(c.group)") { groups.append("\(c.payload) on \(c.group)") }
            for g in groups {
                let list = s.commands.filter { "\($0.payload) on \($0.group)" == g }
                let segs = list.compactMap { c -> (Double, Double, String, String)? in
                    guard let a = at(c.sentAt) else { return nil }
                    let b = at(c.finishedAt) ?? a
                    span = max(span, b)
                    let cls = c.failed > 0 ? "cmd-bad" : c.changed > 0 ? "cmd-chg" : "cmd-ok"
                    return (a, b, cls, "\(c.payload)@\(c.version) \(c.commandId) on \(c.instanceCount): \(c.ok) ok, \(c.changed) changed, \(c.failed) failed, \(c.reboots) reboots")
                }
                let instances = list.reduce(0) { $0 + $1.instanceCount }
                let failed = list.reduce(0) { $0 + $1.failed }
                let reboots = list.reduce(0) { $0 + $1.reboots }
                let who = list.first?.group == "clones" || instances > 1 ? " ×\(instances)" : ""
                let label = "\(list[0].payload) · \(list[0].group)\(who)" + (list.count > 1 ? " (\(list.count) cmds)" : "")
                var note = ReportRenderer.duration(zip(segs.map(\.0), segs.map(\.1)).map { $1 - $0 }.max())
                if failed > 0 { note += " ✗\(failed)" }
                if reboots > 0 { note += " ↻\(reboots)" }
                rows.append(Row(label: label, isStep: false, segments: segs, note: note))
            }
        }
        if let end = r.header.wallSeconds { span = max(span, end) }
        let scale = chartWidth / span
        let height = axisHeight + rows.reduce(0) { $0 + ($1.isStep ? stepRow : subRow) } + 34
        let width = labelWidth + chartWidth + rightPad
        var out = "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(f(width)) \(f(height))\" width=\"\(f(width))\" height=\"\(f(height))\" role=\"img\" aria-label=\"Timeline of the run's steps, waits and guest commands\">\n"
        out += "<defs><pattern id=\"\(idPrefix)hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#e8eaed\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#9aa0a6\" stroke-width=\"2\"/></pattern></defs>\n"
        out += "<style>.st-good{fill:#1e8e3e}.st-bad{fill:#d93025}.st-warn{fill:#f29900}.st-muted,.st-info{fill:#80868b}.wait{fill:url(#\(idPrefix)hatch);stroke:#9aa0a6;stroke-width:.5}.cmd-ok{fill:#81c995}.cmd-chg{fill:#8ab4f8}.cmd-bad{fill:#f28b82}.lbl{font-size:12px;fill:#202124}.sub{font-size:11px;fill:#5f6368}.note{font-size:11px;fill:#5f6368}.tick{stroke:#e0e3e7}.tl{font-size:10px;fill:#80868b}.down{fill:#d93025;opacity:.08}.downl{font-size:10px;fill:#d93025}</style>\n"
        // Axis with round ticks.
        let step = tickStep(span)
        var t = 0.0
        while t <= span + 0.001 {
            let x = labelWidth + t * scale
            out += "<line class=\"tick\" x1=\"\(f(x))\" y1=\"\(f(axisHeight - 6))\" x2=\"\(f(x))\" y2=\"\(f(height - 30))\"/><text class=\"tl\" x=\"\(f(x))\" y=\"\(f(axisHeight - 10))\" text-anchor=\"middle\">\(tickLabel(t))</text>\n"
            t += step
        }
        if let d = r.sourceDowntime, let a = at(d.stoppedAt) {
            let b = at(d.runningAt) ?? span
            out += "<rect class=\"down\" x=\"\(f(labelWidth + a * scale))\" y=\"\(f(axisHeight - 4))\" width=\"\(f(max(1, (b - a) * scale)))\" height=\"\(f(height - axisHeight - 26))\"><title>source down \(ReportRenderer.duration(d.seconds))</title></rect>\n"
            out += "<text class=\"downl\" x=\"\(f(labelWidth + a * scale + 3))\" y=\"\(f(height - 32))\">source down \(HTMLReport.h(ReportRenderer.duration(d.seconds)))</text>\n"
        }
        var y = axisHeight
        for row in rows {
            let hgt = row.isStep ? stepRow : subRow
            let bar = row.isStep ? 14.0 : 10.0
            out += "<g class=\"\(row.isStep ? "step" : "sub-row")\">"
            out += "<text class=\"\(row.isStep ? "lbl" : "sub")\" x=\"\(row.isStep ? 4 : 18)\" y=\"\(f(y + hgt / 2 + 4))\">\(HTMLReport.h(clip(row.label, row.isStep ? 30 : 34)))</text>"
            var last = labelWidth
            for s in row.segments {
                let x = labelWidth + s.start * scale
                let w = max(2, (s.end - s.start) * scale)
                last = max(last, x + w)
                out += "<rect class=\"\(s.cls)\" x=\"\(f(x))\" y=\"\(f(y + (hgt - bar) / 2))\" width=\"\(f(w))\" height=\"\(f(bar))\" rx=\"2\"><title>\(HTMLReport.h(s.title))</title></rect>"
            }
            out += "<text class=\"note\" x=\"\(f(min(last + 4, labelWidth + chartWidth + 4)))\" y=\"\(f(y + hgt / 2 + 4))\">\(HTMLReport.h(row.note))</text></g>\n"
            y += hgt
        }
        // Legend.
        let ly = height - 12
        var lx = labelWidth
        for (cls, text) in [("st-good", "step"), ("wait", "wait"), ("cmd-ok", "guest: ok"), ("cmd-chg", "guest: changed"), ("cmd-bad", "guest: failed"), ("down", "source down")] {
            out += "<rect class=\"\(cls)\" x=\"\(f(lx))\" y=\"\(f(ly - 9))\" width=\"14\" height=\"10\"\(cls == "down" ? " style=\"opacity:.3\"" : "")/><text class=\"tl\" x=\"\(f(lx + 18))\" y=\"\(f(ly))\">\(text)</text>"
            lx += 110
        }
        return out + "\n</svg>\n"
    }

    static func tickStep(_ span: Double) -> Double {
        for s in [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200] where span / s <= 10 { return s }
        return 14400
    }

    static func tickLabel(_ t: Double) -> String {
        if t < 60 { return t == t.rounded() ? "\(Int(t))s" : String(format: "%.1fs", t) }
        let s = Int(t.rounded())
        return s < 3600 ? "\(s / 60)m\(s % 60 == 0 ? "" : String(format: "%02d", s % 60))" : "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))"
    }

    static func clip(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n - 1)) + "…" }

    static func f(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}
