import Foundation
import Testing
import TestSupport

/// Replays a run's call log (the simulator's, each call with the authorization requests AWS makes for it) against a
/// policy in controller/iam/, with the project's test evaluator (localaws/iampolicy.py).
enum IAMReplay {
    struct Verdict {
        let allowed: [[String: Any]]
        let denied: [[String: Any]]
        let unknown: [[String: Any]]
        var apis: Set<String> { Set(allowed.compactMap { $0["api"] as? String }) }
    }

    /// The Sid an operator leaves out in documents mode.
    static let inlineStatement = "InlineModeOnlySendAWSRunPowerShellScript"

    /// `calls`: the answer of GET /__sim/calls. `without`: statements left out of the policy.
    /// `documentPrefix`: a plan's `documents.prefix` other than `clonectl-`, put in the policy's document ARNs as
    /// controller/README.md tells an operator to. `fill`: the policy's placeholders (`output-bucket`, `output-prefix`)
    /// with the plan's values, as an operator fills them in.
    static func judge(calls: [String: Any], policy: String, without: [String] = [], documentPrefix: String? = nil,
                      fill: [String: String] = [:]) throws -> Verdict {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clonectl-iam-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("calls.json")
        try JSONSerialization.data(withJSONObject: calls).write(to: log)
        var policyPath = TestEnvironment.repoRoot.appendingPathComponent("controller/iam/\(policy)").path
        if documentPrefix != nil || !fill.isEmpty {
            var text = try String(contentsOfFile: policyPath, encoding: .utf8)
            if let documentPrefix {
                #expect(text.contains("document/clonectl-*"))
                text = text.replacingOccurrences(of: "document/clonectl-*", with: "document/\(documentPrefix)*")
            }
            for (placeholder, value) in fill {
                #expect(text.contains("<\(placeholder)>"), "\(policy) has the placeholder <\(placeholder)>")
                text = text.replacingOccurrences(of: "<\(placeholder)>", with: value)
            }
            let renamed = dir.appendingPathComponent(policy)
            try text.write(to: renamed, atomically: true, encoding: .utf8)
            policyPath = renamed.path
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestEnvironment.python)
        process.currentDirectoryURL = TestEnvironment.repoRoot
        process.arguments = ["-m", "localaws.iampolicy", policyPath, log.path]
            + without.flatMap { ["--without", $0] }
        let out = dir.appendingPathComponent("verdict.json")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        try process.run()
        process.waitUntilExit()
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as? [String: Any] ?? [:]
        return Verdict(allowed: object["allowed"] as? [[String: Any]] ?? [], denied: object["denied"] as? [[String: Any]] ?? [],
                       unknown: object["unknown"] as? [[String: Any]] ?? [])
    }

    /// The calls of `log` (GET /__sim/calls) with a sequence number in `range`: one case's calls on a shared local AWS.
    static func slice(_ log: [String: Any], _ range: ClosedRange<Int>) -> [String: Any] {
        ["calls": (log["calls"] as? [[String: Any]] ?? []).filter { range.contains($0["seq"] as? Int ?? -1) }]
    }

    static func lastSeq(_ log: [String: Any]) -> Int {
        (log["calls"] as? [[String: Any]] ?? []).compactMap { $0["seq"] as? Int }.max() ?? 0
    }

    /// Every CreateImage asks for its new snapshots with the run's request tags, and no CreateTags call of the run
    /// names a snapshot: snapshots get their tags from CreateImage only (the snapshot gap of issue 14's IAM part).
    static func expectSnapshotsTaggedOnlyByCreateImage(_ calls: [String: Any]) {
        let all = calls["calls"] as? [[String: Any]] ?? []
        let images = all.filter { $0["api"] as? String == "ec2:CreateImage" }
        #expect(!images.isEmpty, "the run made an image")
        for call in images {
            let snapshot = (call["authz"] as? [[String: Any]] ?? []).first {
                $0["action"] as? String == "ec2:CreateImage" && ($0["resource"] as? String ?? "").hasSuffix(":snapshot/*")
            }
            let context = snapshot?["context"] as? [String: Any] ?? [:]
            #expect(context["aws:RequestTag/clonectl:run"] != nil && context["aws:RequestTag/clonectl:role"] != nil,
                    "CreateImage without the run's snapshot tags: \(call)")
        }
        let tagsOnSnapshots = all.filter { call in
            call["api"] as? String == "ec2:CreateTags" && (call["authz"] as? [[String: Any]] ?? []).contains {
                ($0["resource"] as? String ?? "").contains(":snapshot/")
            }
        }
        #expect(tagsOnSnapshots.isEmpty, "CreateTags on snapshots after CreateImage: \(tagsOnSnapshots)")
    }

    /// Whether any SendCommand of the log named a clonectl document (documents mode) or AWS-RunPowerShellScript.
    static func documentsSent(_ calls: [String: Any]) -> Set<String> {
        var names = Set<String>()
        for call in calls["calls"] as? [[String: Any]] ?? [] where call["api"] as? String == "ssm:SendCommand" {
            for request in call["authz"] as? [[String: Any]] ?? [] {
                if let resource = request["resource"] as? String, let r = resource.range(of: ":document/") {
                    names.insert(String(resource[r.upperBound...]))
                }
            }
        }
        return names
    }

    /// The whole run's calls are allowed by the run policy: in documents mode without the inline statement, in
    /// inline mode with it; and with every statement scoped, not one call needed more.
    static func expectRunPolicyAllows(_ calls: [String: Any]) throws {
        let documents = documentsSent(calls)
        #expect(!documents.isEmpty, "the run sent commands")
        let inline = documents.contains("AWS-RunPowerShellScript")
        let verdict = try judge(calls: calls, policy: "controller-policy.json", without: inline ? [] : [inlineStatement])
        let requests = verdict.allowed.reduce(0) { $0 + (($1["requests"] as? Int) ?? 0) }
        print("IAM replay (\(inline ? "inline" : "documents") mode): \(verdict.allowed.count) calls, \(requests) authorization requests allowed, "
              + "\(verdict.denied.count) denied, \(verdict.unknown.count) unknown; APIs: \(verdict.apis.sorted().joined(separator: " "))")
        #expect(verdict.allowed.count > 50, "the log holds the run's calls: \(verdict.allowed.count)")
        #expect(verdict.denied.isEmpty, "denied by the run policy: \(verdict.denied)")
        #expect(verdict.unknown.isEmpty, "calls without authorization requests: \(verdict.unknown)")
        for api in ["ec2:CreateTags", "ec2:StopInstances", "ec2:StartInstances", "ec2:CreateImage", "ec2:RunInstances",
                    "ssm:SendCommand", "ec2:TerminateInstances", "ec2:DeregisterImage", "ec2:DeleteSnapshot"] {
            #expect(verdict.apis.contains(api), "the run made \(api) and the replay judged it: \(verdict.apis.sorted())")
        }
        expectSnapshotsTaggedOnlyByCreateImage(calls)
        if inline {
            // The same log without the inline statement: every SendCommand is refused, nothing else.
            let strict = try judge(calls: calls, policy: "controller-policy.json", without: [inlineStatement])
            let refused = Set(strict.denied.compactMap { $0["api"] as? String })
            #expect(refused == ["ssm:SendCommand"], "documents-mode policy on an inline run: \(refused)")
        }
    }
}
