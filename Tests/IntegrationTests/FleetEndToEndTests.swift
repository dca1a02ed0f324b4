import Testing
import Foundation
import AWSCore
import ClonectlLedger
import ClonectlAgent
import TestSupport

/// A fleet through the real binary against the local AWS: 60 clones, so every guest step of post-clone and verify
/// is two commands (50 + 10) sent and polled together, each with only its own instances' parameters and the plan's
/// rate controls, within the protocol's call budget.
@Suite(.serialized) struct FleetEndToEndTests {
    static let cloneCount = 60

    static func world() throws -> EndToEndTests.World {
        let w = try EndToEndTests.world()
        guard let sg = w.local.securityGroupId, let profile = w.local.instanceProfile else {
            throw LocalAWSError.missing("the local AWS has no simulator")
        }
        let clones = (1...cloneCount).map { i in
            "  - {name: c\(i), subnetId: \(w.local.subnetId), hostName: C\(String(format: "%04d", i)), timeZone: Tokyo Standard Time}"
        }.joined(separator: "\n")
        // No prep: post-clone is host name and time zone only.
        try """
        version: 1
        name: fleet
        source: {instanceId: \(w.local.sourceInstanceId)}
        workCopy: {subnetId: \(w.local.subnetId), securityGroupIds: [\(sg)], instanceProfile: \(profile), instanceType: m5.large}
        sysprep: {shutdownTimeoutMinutes: 5}
        masterImage: {name: "{plan}-master-{runId}"}
        postClone: {maxConcurrency: "20%", maxErrors: "10%"}
        clones:
        \(clones)
        """.write(to: w.plan, atomically: true, encoding: .utf8)
        return w
    }

    static func counts(_ w: EndToEndTests.World) async throws -> [String: Int] {
        (try await EndToEndTests.control(w, "/calls")["counts"] as? [String: Int]) ?? [:]
    }

    @Test func sixtyClonesInTwoCommandsPerGuestStep() async throws {
        let w = try Self.world()
        let setup = try w.run(["run", w.plan.path, "--until", "launch-clones"])
        #expect(setup.status == 0, "stdout: \(setup.stdout)\nstderr: \(setup.stderr)")
        let before = try await Self.counts(w)
        let r = try w.run(["run", w.plan.path, "--until", "verify"])
        #expect(r.status == 0, "stdout: \(r.stdout)\nstderr: \(r.stderr)")
        let after = try await Self.counts(w)

        let ledger = try Ledger(path: w.ledger)
        let runId = try #require(try ledger.runs().first?.id)
        let state = try ledger.run(id: runId).status
        #expect(state == "interrupted", "stopped by --until before cleanup: not running, resumable (run status \(state))")
        let clones = try Set(ledger.resources(runId: runId).filter { $0.kind == "instance" && $0.step == "launch-clones" }.map(\.id))
        #expect(clones.count == Self.cloneCount)

        var sent = 0
        for step in ["post-clone", "verify"] {
            let commands = try ledger.commands(runId: runId, step: step)
            for payload in step == "post-clone" ? ["hostname", "time-zone"] : ["verify"] {
                let mine = commands.filter { $0.payload == payload }
                #expect(mine.count == 2, "\(payload): one command per 50 clones, got \(mine.count)")
                #expect(mine.allSatisfy { $0.instanceIds.count <= 50 })
                #expect(Set(mine.flatMap(\.instanceIds)) == clones, "\(payload) went to every clone once")
                for command in mine {
                    // Each command carries only its own instances' parameters.
                    let params = try JSONParser.parse(command.parametersJSON)
                    let keys = Set(params["byInstance"]?.objectMembers?.map(\.0) ?? [])
                    #expect(keys == Set(command.instanceIds), "\(payload) \(command.commandId) parameters")
                    let invocations = try ledger.invocations(commandId: command.commandId)
                    #expect(invocations.count == command.instanceIds.count)
                    #expect(invocations.allSatisfy { $0.status == "Success" && $0.verdict == "verified" })
                }
                sent += mine.count
            }
        }
        // The plan's rate controls travel with every fleet command.
        let ssm = w.aws.ssm
        let listed = try await ssm.listCommands(maxResults: 50).commands
        let fleetCommands = listed.filter { ($0.comment ?? "").contains("post-clone") || ($0.comment ?? "").contains("verify") }
        #expect(fleetCommands.count == sent)
        #expect(fleetCommands.allSatisfy { $0.maxConcurrency == "20%" && $0.maxErrors == "10%" }, "\(fleetCommands.map { ($0.maxConcurrency, $0.maxErrors) })")

        // The call budget of the issue: at most 3 Run Command calls per instance per guest step, and a poll round
        // costs one ListCommandInvocations per command of 50 (0.02 calls per instance).
        func delta(_ api: String) -> Int { (after[api] ?? 0) - (before[api] ?? 0) }
        let sends = delta("ssm:SendCommand"), lists = delta("ssm:ListCommandInvocations"), gets = delta("ssm:GetCommandInvocation")
        #expect(sends == sent, "SendCommand calls \(sends) for \(sent) commands")
        let perInstancePerStep = Double(sends + lists + gets) / Double(Self.cloneCount * 3)
        #expect(perInstancePerStep <= 3, "Run Command calls per instance per step: \(perInstancePerStep)")
        #expect(gets <= Self.cloneCount * 3, "GetCommandInvocation only for outputs past 2,500 characters")

        for id in clones {
            let g = try await EndToEndTests.guest(w, id)
            #expect(g["timeZoneId"] as? String == "Tokyo Standard Time", "\(id): \(g["timeZoneId"] ?? "-")")
            #expect((g["hostName"] as? String)?.hasPrefix("C00") == true, "\(id): \(g["hostName"] ?? "-")")
        }

        // One guest step again over the whole fleet from a targets file, some clones with their own value.
        let sorted = clones.sorted()
        let targets = w.dir.appendingPathComponent("targets.txt")
        try sorted.enumerated().map { i, id in i % 2 == 0 ? "\(id) TimeZoneId=\"UTC\"" : id }.joined(separator: "\n")
            .write(to: targets, atomically: true, encoding: .utf8)
        let step = try w.run(["step", "time-zone", "--targets", targets.path, "--param", "TimeZoneId=Pacific Standard Time",
                              "--max-concurrency", "10", "-q"])
        #expect(step.status == 0, "stdout: \(step.stdout)\nstderr: \(step.stderr)")
        #expect(step.stdout.contains("\(Self.cloneCount) of \(Self.cloneCount) instance(s) succeeded"), "\(step.stdout)")
        #expect(step.stdout.split(separator: "\n").filter { $0.hasPrefix("command ") }.count == 2)
        for (i, id) in sorted.enumerated() {
            let g = try await EndToEndTests.guest(w, id)
            #expect(g["timeZoneId"] as? String == (i % 2 == 0 ? "UTC" : "Pacific Standard Time"), "\(id)")
        }
    }
}
