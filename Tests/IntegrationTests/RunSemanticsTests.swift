import Testing
import Foundation
import AWSCredentials
import ClonectlLedger
import TestSupport
@testable import ClonectlCLI

/// The pure decisions behind issue 10's run semantics: which run `run PLAN` acts on, and which region.
@Suite struct RunSemanticsTests {
    func record(_ status: String) -> RunRecord {
        RunRecord(id: "run-1", planName: "p", planPath: "p.yaml", planSha256: "", status: status, createdAt: "c",
                  updatedAt: "u", finishedAt: status == "running" ? nil : "2026-01-01T00:00:00.000Z")
    }

    @Test func theNewestRunDecides() {
        #expect(RunSelection.decide(latest: nil, new: false, rerun: false) == .start)
        #expect(RunSelection.decide(latest: record("succeeded"), new: false, rerun: false) == .alreadyDone(record("succeeded")))
        #expect(RunSelection.decide(latest: record("succeeded"), new: false, rerun: true) == .resume(record("succeeded")))
        #expect(RunSelection.decide(latest: record("succeeded"), new: true, rerun: false) == .start)
        for status in ["running", "interrupted", "failed"] {
            #expect(RunSelection.decide(latest: record(status), new: false, rerun: false) == .resume(record(status)))
        }
        #expect(RunSelection.decide(latest: record("cleaned"), new: false, rerun: false) == .cleaned(record("cleaned")))
        #expect(RunSelection.decide(latest: record("cleaned"), new: false, rerun: true) == .cleaned(record("cleaned")))
        #expect(RunSelection.decide(latest: record("cleaned"), new: true, rerun: false) == .start)
        let done = RunSelection.alreadyDone(record("succeeded")).message ?? ""
        #expect(done == "plan p already done in run-1 (finished at 2026-01-01T00:00:00.000Z); `--new` starts another round")
        #expect(RunSelection.cleaned(record("cleaned")).message?.contains("`--new` starts another round") == true)
    }

    @Test func thePlanRegionBeatsTheChainAndAConflictingFlagIsRefused() throws {
        let fromEnv = ResolvedRegion(name: "us-east-1", source: "AWS_REGION")
        let chosen = try PlanRegion.choose(planRegion: "eu-west-1", planFile: "p.yaml", flag: nil) { fromEnv }
        #expect(chosen.region == "eu-west-1")
        #expect(chosen.note == "note: using the plan's region eu-west-1 (p.yaml); AWS_REGION says us-east-1")
        let same = try PlanRegion.choose(planRegion: "eu-west-1", planFile: "p.yaml", flag: "eu-west-1") { fromEnv }
        #expect(same.region == "eu-west-1" && same.note == nil)
        let none = try PlanRegion.choose(planRegion: nil, planFile: "p.yaml", flag: nil) { fromEnv }
        #expect(none.region == nil && none.note == nil, "no region: in the plan: the usual chain")
        #expect(throws: PlanRegion.Conflict.self) {
            try PlanRegion.choose(planRegion: "eu-west-1", planFile: "p.yaml", flag: "us-east-1") { fromEnv }
        }
        let text = PlanRegion.Conflict(flag: "us-east-1", plan: "eu-west-1", file: "p.yaml").description
        #expect(text.contains("--region us-east-1") && text.contains("plan's region eu-west-1"))
    }

    @Test func hintsNameWhatToFixAndNeverSayResumeForPlanErrors() {
        for code in ["InvalidInstanceId", "InvalidInstanceID.NotFound", "UnauthorizedOperation", "InvalidAMIID.NotFound",
                     "InvalidIPAddress.InUse"] {
            let hint = AWSErrorHints.hint(code: code, message: "m", region: "eu-west-1") ?? ""
            #expect(!hint.isEmpty, "\(code)")
            #expect(!hint.contains("again to resume"), "\(code): \(hint)")
        }
        #expect(AWSErrorHints.hint(code: "InvalidInstanceId", message: "", region: "eu-west-1")?.contains("eu-west-1") == true)
        #expect(AWSErrorHints.hint(code: "InvalidIPAddress.InUse", message: "", region: "r")?.contains("privateIp") == true)
        #expect(AWSErrorHints.hint(code: "IncorrectInstanceState", message: "", region: "r")?.contains("wait") == true)
        #expect(AWSErrorHints.hint(code: "ThrottlingException", message: "", region: "r") == nil, "transient: resume as usual")
    }

    /// Through the binary: `plan validate` refuses a misspelled zone (65) and `payloads render` a wrong parameter (64).
    @Test func refusalsThroughTheBinaryNameWhatToFix() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clonectl-sem-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let plan = dir.appendingPathComponent("plan.yaml")
        try String(contentsOf: TestEnvironment.repoRoot.appendingPathComponent("controller/plans/example-app01.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "timeZone: Tokyo Standard Time # Windows", with: "timeZone: Tokyo Standrad Time # Windows")
            .write(to: plan, atomically: true, encoding: .utf8)
        let env = ["HOME": dir.path, "PATH": "/usr/bin:/bin",
                   "CLONECTL_PAYLOADS": TestEnvironment.repoRoot.appendingPathComponent("ps-scripts").path]
        let validate = try CLIRun.run(["plan", "validate", plan.path], environment: env)
        #expect(validate.status == 65)
        #expect(validate.stderr.contains("\(plan.path):") && validate.stderr.contains("clones[0].timeZone")
                && validate.stderr.contains("did you mean 'Tokyo Standard Time'?"), "\(validate.stderr)")
        let missing = try CLIRun.run(["payloads", "render", "hostname"], environment: env)
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("needs NewName") && missing.stdout.isEmpty, "\(missing.stderr)")
        let typo = try CLIRun.run(["payloads", "render", "hostname", "--param", "NewNam=APP02"], environment: env)
        #expect(typo.status == 64)
        #expect(typo.stderr.contains("did you mean NewName?"), "\(typo.stderr)")
        let zone = try CLIRun.run(["payloads", "render", "time-zone", "--param", "TimeZoneId=Tokyo Standrad Time"], environment: env)
        #expect(zone.status == 64)
        #expect(zone.stderr.contains("did you mean 'Tokyo Standard Time'?"), "\(zone.stderr)")
        let ok = try CLIRun.run(["payloads", "render", "hostname", "--param", "NewName=APP02"], environment: env)
        #expect(ok.status == 0, "\(ok.stderr)")
    }
}
