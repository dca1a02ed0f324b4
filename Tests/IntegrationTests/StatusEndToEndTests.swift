import Testing
import Foundation
import AWSCore
import ClonectlLedger
import TestSupport

/// How the controller handles each Run Command status the simulator can now force (issue 17): Delayed (it waits
/// and succeeds), Cancelling then Cancelled, Cancelled/Terminated (a failure that says why), and a Details output
/// cut in UTF-8 bytes (it fetches the full output). One local AWS for the suite, through `clonectl step`.
@Suite(.serialized) struct StatusEndToEndTests {
    typealias W = EndToEndTests
    static let world = Result { try W.world() }

    func step(_ w: W.World, _ faults: [[String: Any]]) async throws -> CLIRun {
        try await FaultEndToEndTests.post(w, "/faults", ["rules": faults])
        let r = try w.run(["step", "preflight", "--instance", w.local.sourceInstanceId])
        try await FaultEndToEndTests.post(w, "/faults", ["rules": [] as [Any]])
        return r
    }

    @Test func delayedIsWaitedOutAndTheStepSucceeds() async throws {
        let w = try Self.world.get()
        let r = try await step(w, [["fault": "delayed", "seconds": 1.5, "count": 1]])
        #expect(r.status == 0, "stdout: \(r.stdout)\nstderr: \(r.stderr)")
        #expect(r.stdout.contains("Success, envelope verified"), "\(r.stdout)")
    }

    @Test func aCancelledInvocationFailsTheStepAndSaysSo() async throws {
        let w = try Self.world.get()
        let r = try await step(w, [["fault": "cancelling", "seconds": 0.5, "count": 1]])
        #expect(r.status != 0)
        #expect(r.stdout.contains("Cancelled") && r.stdout.contains("cancelled"), "\(r.stdout)")
    }

    @Test func terminatedByMaxErrorsFailsTheStepAndNamesMaxErrors() async throws {
        let w = try Self.world.get()
        let r = try await step(w, [["fault": "terminated", "count": 1]])
        #expect(r.status != 0)
        #expect(r.stdout.contains("Cancelled") && r.stdout.contains("MaxErrors"), "\(r.stdout)")
    }

    @Test func aDetailsOutputCutInBytesIsFetchedWhole() async throws {
        let w = try Self.world.get()
        // 60 lines of Japanese before the envelope: 2,500 bytes of Details are about 830 characters.
        let warning = String(repeating: "警告: この操作には時間がかかります。\r\n", count: 60)
        let r = try await step(w, [["fault": "outputPrefix", "text": warning, "count": 1]])
        #expect(r.status == 0, "stdout: \(r.stdout)\nstderr: \(r.stderr)")
        #expect(r.stdout.contains("envelope verified"), "\(r.stdout)")
        let calls = try await W.control(w, "/calls?api=ssm:GetCommandInvocation")
        #expect(((calls["counts"] as? [String: Int])?["ssm:GetCommandInvocation"] ?? 0) >= 1,
                "the full output was fetched: \(calls["counts"] ?? "")")
    }

    @Test func oneUndeliveredInstanceOfTwoIsNamedAndTheCommandIsIncomplete() async throws {
        let w = try Self.world.get()
        var input = RunInstancesInput(imageId: w.local.sourceImageId, instanceType: "m5.large")
        input.subnetId = w.local.subnetId
        let clone = try #require(try await w.aws.ec2.runInstances(input).instances.first?.instanceId)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {  // registered with SSM (its agent reported in) before it is a valid target
            let rows = try await w.aws.ssm.describeInstanceInformation(
                filters: [InstanceInformationFilter(key: "InstanceIds", values: [clone])]).instanceInformationList
            if rows.first?.pingStatus == "Online" { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        try await FaultEndToEndTests.post(w, "/faults", ["rules": [["fault": "deliveryTimedOut", "instanceId": clone]]])
        let r = try w.run(["step", "preflight", "--instance", w.local.sourceInstanceId, "--instance", clone])
        try await FaultEndToEndTests.post(w, "/faults", ["rules": [] as [Any]])
        #expect(r.status != 0)
        #expect(r.stdout.contains("1 of 2 instance(s) succeeded"), "\(r.stdout)")
        #expect(r.stdout.contains("\(clone): TimedOut") && r.stdout.contains("delivery timeout"), "\(r.stdout)")
        let command = try #require(try await w.aws.ssm.listCommands(instanceId: clone).commands.first)
        #expect(command.status == "Failed" && command.statusDetails == "Incomplete", "\(command)")
        #expect(command.errorCount == 0 && command.deliveryTimedOutCount == 1)
    }
}
