import Foundation
import ClonectlLedger

/// One invocation as the report shows it: the result, changes, errors and log tail from its verified envelope, and
/// the 3010 reboots it went through.
///
/// A payload that exits 3010 is run again by the SSM agent after the reboot; the run after the reboot usually reports
/// `ok` with nothing changed (agent-docs/hostname.md). When SSM kept the earlier runs' output, their envelopes
/// (`reboot-pending`, with what they changed) are in the invocation's output: each is a reboot, and their changes
/// are this step's changes too. Those earlier envelopes are shown, never trusted for the verdict, which stays the
/// ledger's.
struct GuestResult {
    var result: String
    var changes: [RunReport.Change] = []
    var errors: [String] = []
    var logTail: [String] = []
    var reboots = 0
    /// Each 3010 reboot as a wait: from the run that asked for it (its envelope's finishedAt) to the next run after the
    /// reboot (the next envelope's startedAt), the guest's own times. Only when SSM kept the earlier runs' output.
    var rebootWaits: [(start: String, end: String)] = []

    init(invocation i: InvocationRecord) {
        let final = i.resultJSON.flatMap(Self.object)
        result = (final?["status"] as? String) ?? Self.fallback(i)
        if i.verdict != nil, i.verdict != "verified" { result = "failed" }
        let earlier = Self.envelopes(in: i.output ?? "").dropLast(final == nil ? 0 : 1)
        let chain = Array(earlier) + (final.map { [$0] } ?? [])
        for (a, b) in zip(chain, chain.dropFirst()) where (a["status"] as? String) == "reboot-pending" {
            if let start = Self.time(a["finishedAt"]), let end = Self.time(b["startedAt"]) { rebootWaits.append((start, end)) }
        }
        for e in earlier where (e["status"] as? String) == "reboot-pending" {
            reboots += 1
            changes += Self.changes(e)
        }
        if let final {
            // Since payloads 1.1.0 the controller's recorded result already carries the earlier runs' changes
            // (EnvelopeVerification.runEnvelope): take them once. An older ledger's result has only its own.
            let own = Self.changes(final)
            changes = own.starts(with: changes) ? own : changes + own
            errors = (final["errors"] as? [Any])?.map { "\($0)" } ?? []
            logTail = (final["logTail"] as? [Any])?.map { "\($0)" } ?? []
        }
        if result == "reboot-pending" { reboots = max(reboots, 1) }
        if !changes.isEmpty, result == "ok", reboots > 0 { result = "changed" }
        if result == "failed", errors.isEmpty, let details = i.statusDetails { errors = ["\(i.status): \(details)"] }
        if i.verdict != nil, i.verdict != "verified" { errors.insert("envelope \(i.verdict!)", at: 0) }
    }

    /// An envelope's time (`yyyy-MM-ddTHH:mm:ssZ`) in the ledger's format, so every time in the report reads alike.
    static func time(_ value: Any?) -> String? {
        (value as? String).flatMap(UTCTimestamp.parse).map { UTCTimestamp.format($0) }
    }

    /// No judged envelope: the SSM status says how far it got.
    static func fallback(_ i: InvocationRecord) -> String {
        switch i.status {
        case "Success": return "ok"
        case "Pending", "InProgress", "Delayed": return "running"
        default: return "failed"
        }
    }

    static func object(_ text: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    }

    /// The JSON line after each BEGIN marker in an output.
    static func envelopes(in output: String) -> [[String: Any]] {
        guard output.contains("BEGIN CLONECTL RESULT") else { return [] }
        let lines = output.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        var found: [[String: Any]] = []
        for (n, line) in lines.enumerated() where line.hasPrefix("-----BEGIN CLONECTL RESULT") && n + 1 < lines.count {
            let json = lines[n + 1].trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
            if let object = object(json) { found.append(object) }
        }
        return found
    }

    static func changes(_ envelope: [String: Any]) -> [RunReport.Change] {
        ((envelope["changed"] as? [[String: Any]]) ?? []).map { c in
            RunReport.Change(item: "\(c["item"] ?? "?")", from: text(c["from"]), to: text(c["to"]))
        }
    }

    static func text(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: return "(none)"
        case let s as String: return s
        case let n as NSNumber: return n.stringValue
        case let other?:
            if let data = try? JSONSerialization.data(withJSONObject: other, options: [.sortedKeys]) {
                return String(decoding: data, as: UTF8.self)
            }
            return "\(other)"
        }
    }
}
