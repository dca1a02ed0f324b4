import Testing
import Foundation
import AWSCore
import ClonectlLedger
import ClonectlPlan
import TestSupport
@testable import ClonectlWorkflow

/// Records progress lines, for assertions.
final class Lines: WorkflowReporter, @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func report(_ event: WorkflowEvent) {
        if case .progress(_, let m) = event { lock.withLock { items.append(m) } }
    }
    var all: [String] { lock.withLock { items } }
}

/// The EC2 side of the workflow against moto: stop, image once (also after a crash), remove.
@Suite(.serialized) struct WorkflowEC2Tests {
    func setUp() async throws -> (MotoClients, StepContext, Lines, String) {
        let aws = try MotoClients()
        // An instance of its own, so other tests' use of the shared source does not interfere.
        var input = RunInstancesInput(imageId: aws.local.sourceImageId, instanceType: "t3.micro")
        input.subnetId = aws.local.subnetId
        let source = try #require(try await aws.ec2.runInstances(input).instances.first?.instanceId)
        let plan = try PlanLoader.parse("""
            version: 1
            name: wf-test
            source: {instanceId: \(source)}
            workCopy: {subnetId: \(aws.local.subnetId), securityGroupIds: [sg-0bbbbbbbbbbbbbbbb], instanceProfile: p}
            masterImage: {name: "{plan}-master-{runId}"}
            clones: [{name: web02, subnetId: \(aws.local.subnetId), hostName: WEB02}]
            """, file: "plan.yaml")
        let ledger = try Ledger(path: FileManager.default.temporaryDirectory.appendingPathComponent("clonectl-wf-\(UUID().uuidString).sqlite").path)
        let run = try ledger.createRun(planName: plan.name, planPath: "plan.yaml", planSha256: "x")
        let lines = Lines()
        return (aws, StepContext(runId: run.id, plan: plan, ledger: ledger, reporter: lines), lines, source)
    }

    var services: (MotoClients) -> StepServices {
        { aws in
            var waits = StepServices.Waits()
            waits.instance = MotoClients.quick
            waits.image = MotoClients.quick
            return StepServices(ec2: aws.ec2, ssm: aws.ssm, waits: waits)
        }
    }

    @Test func stopAndImageTheSourceOnceEvenAfterACrash() async throws {
        let (aws, context, lines, source) = try await setUp()
        let services = self.services(aws)
        var state = RunState(sourceInstanceId: source)
        try await StopSourceStep(services: services).run(context, &state)
        #expect(state.sourceStoppedByUs)
        #expect(try await aws.ec2.describeAllInstances(instanceIds: [source]).first?.stateName == .stopped)

        try await ImageSourceStep(services: services).run(context, &state)
        let imageId = try #require(state.sourceImageId)
        #expect(try context.ledger.resources(runId: context.runId).contains { $0.kind == "image" && $0.id == imageId })

        // A crash between CreateImage and saving its id: the state has no image, but the run's tag finds it.
        var crashed = RunState(sourceInstanceId: source)
        crashed.sourceStoppedByUs = true
        try await ImageSourceStep(services: services).run(context, &crashed)
        #expect(crashed.sourceImageId == imageId, "no second AMI")
        #expect(lines.all.contains { $0.contains("not creating another") })
        let tagged = try await aws.ec2.describeImages(filters: [EC2Filter("tag:clonectl:run", [context.runId])])
        #expect(tagged.count == 1)

        // Undo in reverse: the image goes, the source comes back.
        try await ImageSourceStep(services: services).cleanup(context, state)
        try await StopSourceStep(services: services).cleanup(context, state)
        let after = try await aws.ec2.describeImages(imageIds: [imageId]).filter { $0.stateName == .available }
        #expect(after.isEmpty)
        #expect(try context.ledger.resources(runId: context.runId).filter { $0.kind == "image" }.isEmpty)
        try await aws.ec2.waitForInstances([source], toBe: .running, configuration: MotoClients.quick)
    }

    @Test func anAlreadyStoppedSourceIsLeftAsItIs() async throws {
        let (aws, context, _, source) = try await setUp()
        _ = try await aws.ec2.stopInstances([source])
        var state = RunState(sourceInstanceId: source)
        try await StopSourceStep(services: services(aws)).run(context, &state)
        #expect(!state.sourceStoppedByUs, "the run did not stop it, so its cleanup will not start it")
    }

    @Test func clientTokensAreShortAndStable() {
        let long = RunTags.clientToken(runId: "run-20261128T041500-abcdef12", purpose: "clone-a-very-long-clone-name-that-goes-on")
        #expect(long.utf8.count <= 64)
        #expect(long == RunTags.clientToken(runId: "run-20261128T041500-abcdef12", purpose: "clone-a-very-long-clone-name-that-goes-on"))
        #expect(RunTags.clientToken(runId: "r", purpose: "work-copy") == "r-work-copy")
    }

    @Test func imageNamePlaceholdersExpand() {
        let name = MasterImageStep.expand("{plan}-master-{date}-{runId}", plan: "app01", runId: "run-1",
                                          now: Date(timeIntervalSince1970: 1_800_000_000))
        #expect(name == "app01-master-2027-01-15-run-1")
    }
}
