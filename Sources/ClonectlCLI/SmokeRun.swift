import Foundation
import ClonectlAgent
import AWSCore

/// The aws-smoke sequence. Whatever it created is removed again, also when a step fails.
struct SmokeRun {
    let session: AWSSession
    let report: SmokeReport
    let instance: String
    let subnet: String?
    let instanceType: String
    let secureParameter: String?

    func run() async throws {
        let ec2 = session.ec2
        _ = try await report.step("sts GetCallerIdentity") {
            let id = try await session.sts.getCallerIdentity()
            return ((), "\(id.arn) (account \(id.account))")
        }
        let source = try await report.step("ec2 DescribeInstances") {
            guard let found = try await ec2.describeAllInstances(instanceIds: [instance]).first else {
                throw SmokeError("instance \(instance) was not found")
            }
            return (found, "\(found.instanceId) \(found.state), platform \(found.platform ?? "linux"), \(found.tag("Name") ?? "no Name tag")")
        }
        if let name = secureParameter {
            _ = try await report.step("ssm GetParameter (SecureString)") {
                let p = try await session.ssm.getParameter(name: name)
                return ((), "\(p.name): \(p.type), version \(p.version.map(String.init) ?? "?"), \(p.value.count) characters (value not shown)")
            }
        }
        let runId = UUID().uuidString.lowercased()
        let runTag = EC2Tag("clonectl:smoke", runId)
        var imageId: String?
        var cloneId: String?
        var sourceStopped = false
        do {
            _ = try await report.step("ec2 StopInstances + wait stopped") {
                let changes = try await ec2.stopInstances([instance])
                sourceStopped = true
                try await ec2.waitForInstances([instance], toBe: .stopped)
                return ((), "\(changes.first?.previousState ?? "?") -> stopped")
            }
            let image = try await report.step("ec2 CreateImage + wait available") {
                let id = try await ec2.createImage(
                    instanceId: instance, name: "clonectl-smoke-\(runId)", description: "clonectl aws-smoke \(runId)",
                    tagSpecifications: [EC2TagSpecification(resourceType: "image", tags: [runTag])])
                imageId = id
                let image = try await ec2.waitForImageAvailable(id)
                return (image, "\(id) available, snapshots \(image.snapshotIds.joined(separator: ", "))")
            }
            _ = try await report.step("ec2 DescribeImages by tag") {
                let found = try await ec2.describeImages(filters: [EC2Filter("tag:clonectl:smoke", [runId])])
                guard found.map(\.imageId) == [image.imageId] else {
                    throw SmokeError("looking the image up by its tag found \(found.map(\.imageId))")
                }
                return ((), "found \(image.imageId) by tag clonectl:smoke")
            }
            let clone = try await report.step("ec2 RunInstances (client token) + wait running") {
                var input = RunInstancesInput(imageId: image.imageId, instanceType: instanceType)
                input.subnetId = subnet ?? source.subnetId
                input.clientToken = "smoke-\(runId)"
                input.tagSpecifications = [EC2TagSpecification(resourceType: "instance",
                                                               tags: [runTag, EC2Tag("Name", "clonectl-smoke")])]
                guard let launched = try await ec2.runInstances(input).instances.first else {
                    throw SmokeError("RunInstances answered with no instance")
                }
                cloneId = launched.instanceId
                try await ec2.waitForInstances([launched.instanceId], toBe: .running)
                return (launched.instanceId, "\(launched.instanceId) running in \(input.subnetId ?? "default subnet")")
            }
            _ = try await report.step("ec2 CreateTags") {
                try await ec2.createTags(resourceIds: [clone], tags: [EC2Tag("clonectl:verified", "yes")])
                let tagged = try await ec2.describeAllInstances(instanceIds: [clone]).first?.tag("clonectl:verified")
                guard tagged == "yes" else { throw SmokeError("the tag did not stick on \(clone)") }
                return ((), "\(clone) tagged clonectl:verified=yes")
            }
        } catch {
            report.note("a step failed; removing what this run created")
            await cleanUp(cloneId: cloneId, image: imageId, sourceStopped: sourceStopped)
            throw error
        }
        try await cleanUpChecked(cloneId: cloneId, imageId: imageId)
    }

    /// The normal end: each removal is a reported step.
    private func cleanUpChecked(cloneId: String?, imageId: String?) async throws {
        let ec2 = session.ec2
        if let cloneId {
            _ = try await report.step("ec2 TerminateInstances + wait terminated") {
                _ = try await ec2.terminateInstances([cloneId])
                try await ec2.waitForInstances([cloneId], toBe: .terminated)
                return ((), "\(cloneId) terminated")
            }
        }
        if let imageId {
            _ = try await report.step("ec2 DeregisterImage + DeleteSnapshot") {
                let snapshots = try await ec2.describeImages(imageIds: [imageId]).first?.snapshotIds ?? []
                try await ec2.deregisterImage(imageId)
                for s in snapshots { try await ec2.deleteSnapshot(s) }
                return ((), "\(imageId) deregistered, \(snapshots.count) snapshot(s) deleted")
            }
        }
        _ = try await report.step("ec2 StartInstances + wait running") {
            _ = try await ec2.startInstances([instance])
            try await ec2.waitForInstances([instance], toBe: .running)
            return ((), "\(instance) running again")
        }
    }

    /// After a failure: best effort, each problem reported, nothing thrown.
    private func cleanUp(cloneId: String?, image: String?, sourceStopped: Bool) async {
        let ec2 = session.ec2
        if let cloneId {
            do { _ = try await ec2.terminateInstances([cloneId]) } catch { report.note("could not terminate \(cloneId): \(error)") }
        }
        if let image {
            do {
                let snapshots = try await ec2.describeImages(imageIds: [image]).first?.snapshotIds ?? []
                try await ec2.deregisterImage(image)
                for s in snapshots { try await ec2.deleteSnapshot(s) }
            } catch { report.note("could not remove image \(image): \(error)") }
        }
        if sourceStopped {
            do {
                try await ec2.waitForInstances([instance], toBe: .stopped)
                _ = try await ec2.startInstances([instance])
            } catch { report.note("could not start \(instance) again: \(error); start it by hand") }
        }
    }
}

struct SmokeError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// One line per step on standard output as it finishes (text), or the steps in the JSON document at the end.
final class SmokeReport: @unchecked Sendable {
    let format: OutputFormat
    private var steps: [(step: String, verdict: String, detail: String, ms: Int64)] = []
    private let lock = NSLock()
    private let started = ContinuousClock.now

    init(format: OutputFormat) { self.format = format }

    func step<T>(_ name: String, _ body: () async throws -> (T, String)) async throws -> T {
        let start = ContinuousClock.now
        do {
            let (value, detail) = try await body()
            record(name, "ok", detail, ContinuousClock.now - start)
            return value
        } catch {
            record(name, "failed", CLIFailure.describe(error), ContinuousClock.now - start)
            throw error
        }
    }

    func note(_ text: String) {
        if format == .text { Console.out("  note: \(text)") }
    }

    private func record(_ name: String, _ verdict: String, _ detail: String, _ elapsed: Duration) {
        let ms = AWSOptions.milliseconds(elapsed)
        lock.withLock { steps.append((name, verdict, detail, ms)) }
        if format == .text {
            let mark = verdict == "ok" ? "ok  " : "FAIL"
            Console.out("\(mark) \(name.padding(toLength: 48, withPad: " ", startingAt: 0)) \(String(format: "%6d", ms)) ms  \(detail)")
        }
    }

    func members(region: String) -> [(String, JSONValue)] {
        let total = AWSOptions.milliseconds(ContinuousClock.now - started)
        return [("region", .string(region)), ("totalMs", .int(total)), ("steps", .array(lock.withLock { steps }.map { s in
            .object([("step", .string(s.step)), ("verdict", .string(s.verdict)), ("detail", .string(s.detail)), ("ms", .int(s.ms))])
        }))]
    }

    func summary(region: String) -> String {
        let total = AWSOptions.milliseconds(ContinuousClock.now - started)
        let failed = lock.withLock { steps.filter { $0.verdict != "ok" }.count }
        return "\(failed == 0 ? "All" : "Not all") AWS calls answered as expected (\(region), \(total) ms in all)."
    }
}
