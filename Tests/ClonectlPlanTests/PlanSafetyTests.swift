import Testing
import Foundation
@testable import ClonectlPlan
import TestSupport

/// Plan validation of issue 10: Windows time-zone ids from the real list, protected services, where the access aids go.
@Suite struct PlanSafetyTests {
    func plan(prep: String = "", timeZone: String = "Tokyo Standard Time") -> String {
        """
        version: 1
        name: web01
        source: {instanceId: i-0fedcba9876543210}
        \(prep)
        workCopy: {subnetId: subnet-0aaaaaaaaaaaaaaaa, securityGroupIds: [sg-0bbbbbbbbbbbbbbbb], instanceProfile: p}
        masterImage: {name: web01-master}
        clones:
          - {name: web02, subnetId: subnet-0aaaaaaaaaaaaaaaa, hostName: WEB02, timeZone: \(timeZone)}
        """
    }

    func issues(_ yaml: String) -> [PlanIssue] {
        do { _ = try PlanLoader.parse(yaml, file: "plan.yaml"); return [] } catch let e as PlanError { return e.issues } catch {
            Issue.record("unexpected \(error)")
            return []
        }
    }

    @Test func aMisspelledTimeZoneFailsWithDidYouMean() throws {
        let found = issues(plan(timeZone: "Tokyo Standrad Time"))
        #expect(found.count == 1)
        let issue = try #require(found.first)
        #expect(issue.field == "clones[0].timeZone")
        #expect(issue.line == 8)
        #expect(issue.message.contains("did you mean 'Tokyo Standard Time'?"), "\(issue.message)")
        #expect(issue.description.hasPrefix("plan.yaml:8:"), "\(issue.description)")
    }

    @Test func realIdsPassInAnyCaseAndIANANamesPointToThem() throws {
        for id in ["Tokyo Standard Time", "UTC", "W. Europe Standard Time", "Pacific Standard Time (Mexico)", "tokyo standard time",
                   "UTC+12", "Kamchatka Standard Time"] {
            #expect(issues(plan(timeZone: id)).isEmpty, "\(id)")
        }
        let iana = try #require(issues(plan(timeZone: "Europe/Paris")).first)
        #expect(iana.message.contains("'Romance Standard Time'"), "\(iana.message)")
        #expect(issues(plan(timeZone: "Mars Standard Time")).first?.message.contains("not a Windows time zone id") == true)
        #expect(WindowsTimeZones.all.count >= 139)
        #expect(Set(WindowsTimeZones.all.map { $0.id.lowercased() }).count == WindowsTimeZones.all.count, "no duplicates")
    }

    @Test func protectedServicesAreRefusedWithWhere() throws {
        let found = issues(plan(prep: "prep:\n  jobs: {services: [AppSvc, AmazonSSMAgent, 'Rpc*', winmgmt]}"))
        #expect(found.count == 3, "\(found)")
        #expect(found.allSatisfy { $0.field.hasPrefix("prep.jobs.services") && $0.line == 5 }, "\(found)")
        #expect(found.contains { $0.message.contains("'AmazonSSMAgent' must keep running") })
        #expect(found.contains { $0.message.contains("'Rpc*' matches RpcSs, RpcEptMapper") })
        #expect(found.contains { $0.message.contains("'winmgmt'") })
        #expect(found.allSatisfy { $0.message.contains("remove it from prep.jobs.services") })
        #expect(issues(plan(prep: "prep:\n  jobs: {services: [AppSvc, 'App*', Ec2Launcher]}")).isEmpty,
                "a pattern that matches no protected service is fine")
        #expect(issues(plan(prep: "prep:\n  jobs: {services: ['*']}")).count == 1)
    }

    /// One list: plan validation refuses exactly the services the 1.1.0 guest refuses by name.
    @Test func theProtectedServicesAreTheGuestsList() throws {
        let module = TestEnvironment.repoRoot.appendingPathComponent("ps-scripts/agent/1.1.0/CloneAgent.psm1")
        let text = try String(contentsOf: module, encoding: .utf8)
        let start = try #require(text.range(of: "$script:ProtectedServices = @("))
        let end = try #require(text[start.upperBound...].firstIndex(of: ")"))
        let names = text[start.upperBound..<end].split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: "'"))
        }
        #expect(names.count >= 13, "\(names)")
        #expect(Set(names) == Set(Check.protectedServices), "guest \(names) vs plan \(Check.protectedServices)")
        #expect(issues(plan(prep: "prep:\n  jobs: {services: [Schedule, 'Dns*']}")).count == 2)
    }

    @Test func theAccessAidsGoOnTheWorkCopyUnlessThePlanSaysSource() throws {
        let defaulted = try PlanLoader.parse(plan(prep: "prep:\n  firewall: {}"), file: "p.yaml")
        #expect(defaulted.prep.accessAidsOn == .workCopy)
        let old = try PlanLoader.parse(plan(prep: "prep:\n  accessAidsOn: source\n  firewall: {}"), file: "p.yaml")
        #expect(old.prep.accessAidsOn == .source)
        let wrong = try #require(issues(plan(prep: "prep:\n  accessAidsOn: sauce")).first)
        #expect(wrong.field == "prep.accessAidsOn" && wrong.message.contains("workCopy") && wrong.message.contains("source"))
    }
}
