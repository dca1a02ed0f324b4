import Testing
import Foundation
import TestSupport
@testable import ClonectlPlan

@Suite struct PlanLoaderTests {
    static let plansDir = TestEnvironment.repoRoot.appendingPathComponent("controller/plans")

    static let minimal = """
    version: 1
    name: web01
    source:
      instanceId: i-0fedcba9876543210
    workCopy:
      subnetId: subnet-0aaaaaaaaaaaaaaaa
      securityGroupIds: [sg-0bbbbbbbbbbbbbbbb]
      instanceProfile: clonectl-instance
    masterImage:
      name: web01-master-{runId}
    clones:
      - name: web02
        subnetId: subnet-0aaaaaaaaaaaaaaaa
        hostName: WEB02
    """

    func issues(_ yaml: String) -> [PlanIssue] {
        do {
            _ = try PlanLoader.parse(yaml, file: "plan.yaml")
            return []
        } catch let e as PlanError {
            return e.issues
        } catch {
            Issue.record("unexpected error \(error)")
            return []
        }
    }

    @Test func everyExamplePlanIsValid() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.plansDir.path).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 2)
        for f in files {
            let plan = try PlanLoader.load(path: Self.plansDir.appendingPathComponent(f).path)
            #expect(!plan.clones.isEmpty, "\(f)")
        }
    }

    @Test func fullExampleReadsEveryField() throws {
        let plan = try PlanLoader.load(path: Self.plansDir.appendingPathComponent("example-app01.yaml").path)
        #expect(plan.name == "app01")
        #expect(plan.region == "ap-northeast-1")
        #expect(plan.prep.workUser == Plan.WorkUser(name: "clonework", passwordParameter: "/clonectl/app01/work-user-password"))
        #expect(plan.prep.tasks == [#"\App\Nightly*"#, #"\App\Export"#])
        #expect(plan.prep.firewallProfiles == ["Domain", "Private", "Public"])
        #expect(plan.clones.map(\.hostName) == ["APP02", "APP03"])
        #expect(plan.clones[1].domain?.ouPath == "OU=Servers,DC=corp,DC=example,DC=com")
        #expect(plan.clones[0].tags == ["Role": "web"])
        #expect(plan.sysprep.shutdownTimeoutMinutes == 90)
        #expect(plan.cleanup.deregisterSourceImage == false)
    }

    @Test func defaultsApplyToAMinimalPlan() throws {
        let plan = try PlanLoader.parse(Self.minimal, file: "plan.yaml")
        #expect(plan.prep.workUser == nil)
        #expect(plan.postClone.maxConcurrency == "50")
        #expect(plan.postClone.maxErrors == "0")
        #expect(plan.cleanup.terminateWorkCopy)
        #expect(plan.sysprep.shutdownTimeoutMinutes == 90)
    }

    @Test func unknownKeyNamesLineAndSuggests() {
        let found = issues(Self.minimal.replacingOccurrences(of: "masterImage:", with: "masterImgae:"))
        let unknown = found.first { $0.field == "masterImgae" }
        #expect(unknown?.line == 9)
        #expect(unknown?.message.contains("did you mean 'masterImage'") == true)
        #expect(found.contains { $0.field == "masterImage" && $0.message == "is required" })
    }

    @Test func everyProblemIsReportedAtOnceWithItsField() {
        let yaml = Self.minimal
            .replacingOccurrences(of: "hostName: WEB02", with: "hostName: WEB02-WITH-A-LONG-NAME\n    timeZone: Asia/Tokyo\n    privateIp: 10.0.0.300")
            .replacingOccurrences(of: "instanceId: i-0fedcba9876543210", with: "instanceId: web01")
        let found = issues(yaml)
        #expect(found.count == 4, "\(found)")
        #expect(found.contains { $0.field == "source.instanceId" && $0.message.contains("i-") })
        #expect(found.contains { $0.field == "clones[0].hostName" && $0.message.contains("1 to 15") })
        #expect(found.contains { $0.field == "clones[0].timeZone" && $0.message.contains("Tokyo Standard Time") })
        #expect(found.contains { $0.field == "clones[0].privateIp" })
        #expect(found.allSatisfy { $0.line != nil && $0.file == "plan.yaml" })
        let text = PlanError(issues: found).description
        #expect(text.contains("plan.yaml:4:"))
    }

    @Test func aPasswordInThePlanIsRefused() {
        let yaml = Self.minimal + "\nprep:\n  workUser:\n    name: clonework\n    password: hunter2\n    passwordParameter: /p\n"
        let found = issues(yaml)
        #expect(found.contains { $0.field == "prep.workUser.password" && $0.message.contains("SecureString") })
        #expect(!found.contains { $0.message.contains("hunter2") })
    }

    @Test func duplicateHostNamesAreCaughtCaseInsensitively() {
        let yaml = Self.minimal + "\n  - name: web03\n    subnetId: subnet-0aaaaaaaaaaaaaaaa\n    hostName: web02\n"
        let found = issues(yaml)
        #expect(found.contains { $0.message.contains("same host name") })
    }

    @Test func wrongTypesAndBadYAML() {
        #expect(issues(Self.minimal.replacingOccurrences(of: "version: 1", with: "version: two")).contains { $0.field == "version" })
        #expect(issues("clones: [").first?.message.contains("not valid YAML") == true)
        #expect(issues("").first?.message.contains("empty") == true)
        #expect(issues("- a\n- b\n").first?.message.contains("expected a mapping") == true)
        #expect(issues(Self.minimal.replacingOccurrences(of: "securityGroupIds: [sg-0bbbbbbbbbbbbbbbb]", with: "securityGroupIds: sg-0bbbbbbbbbbbbbbbb"))
            .contains { $0.field == "workCopy.securityGroupIds" && $0.message.contains("expected a list") })
    }

    @Test func imageNamePlaceholdersAndTags() {
        #expect(Check.imageName("{plan}-master-{runId}") == nil)
        #expect(Check.imageName("{plan}-{bogus}")?.contains("placeholder") == true)
        #expect(Check.tag("aws:cloudformation", "x") != nil)
        #expect(Check.tag("clonectl:run", "x") != nil)
        #expect(Check.tag("Owner", "ops") == nil)
        // SendCommand's own patterns: what passes here, Run Command accepts.
        for good in ["1", "50", "10%", "100%", "1%", "5000"] { #expect(Check.maxConcurrency(good) == nil, "\(good)") }
        for bad in ["0", "0%", "05", "+5", "150%", "101%", "", "ten", "1.5", "12345678"] {
            #expect(Check.maxConcurrency(bad) != nil, "\(bad)")
        }
        for good in ["0", "0%", "3", "9%", "10%", "100%"] { #expect(Check.maxErrors(good) == nil, "\(good)") }
        for bad in ["-1", "150%", "00", "01", "5 %"] { #expect(Check.maxErrors(bad) != nil, "\(bad)") }
        #expect(Suggest.closest("hostname", in: ["hostName", "name"]) == "hostName")
        #expect(Suggest.closest("zzzzzz", in: ["hostName"]) == nil)
    }
}

@Suite struct PlanPayloadPinTests {
    @Test func pinsAreReadAndChecked() throws {
        let plan = try PlanLoader.parse(PlanLoaderTests.minimal + "\npayloads:\n  hostname: 1.0.0\n", file: "plan.yaml")
        #expect(plan.payloadPins == ["hostname": "1.0.0"])
        #expect(plan.payloadReference("hostname") == "hostname@1.0.0" && plan.payloadReference("verify") == "verify")
        let bad = PlanLoaderTests().issues(PlanLoaderTests.minimal + "\npayloads:\n  Hostname: latest\n")
        #expect(bad.count == 1 && bad[0].message.contains("is not a payload name"), "\(bad)")
        let badVersion = PlanLoaderTests().issues(PlanLoaderTests.minimal + "\npayloads:\n  hostname: '1.0'\n")
        #expect(badVersion.count == 1 && badVersion[0].message.contains("pin MAJOR.MINOR.PATCH"), "\(badVersion)")
    }
}
