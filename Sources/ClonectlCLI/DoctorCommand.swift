import ArgumentParser
import Foundation
import AWSCore
import AWSCredentials
import ClonectlAgent
import ClonectlLedger
import ClonectlPlan
import ClonectlWorkflow

/// `clonectl doctor [PLAN]`: what clonectl would use and whether it works, before anything is changed.
public struct DoctorCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check identity, region, endpoints, payloads, the ledger and (with a plan) its instances.")

    @Argument(help: "A plan file whose instances to check.") public var plan: String?
    @Flag(help: "Also run the read-only preflight payload on the plan's source: EC2Launch flavour and version, Sysprep blockers.")
    public var guest = false
    @OptionGroup public var options: ControllerOptions
    public init() {}

    public func run() async throws {
        var problems = 0
        func check(_ label: String, _ body: () async throws -> String) async {
            do {
                print("ok    \(column(label)) \(try await body())")
            } catch {
                problems += 1
                print("FAIL  \(column(label)) \(error)")
            }
        }
        // A plan's region: is the region its runs use (PlanRegion), so doctor checks that one.
        let settings = try plan.map { try options.aws.settings(planRegion: (try? PlanLoader.load(path: $0))?.region, planFile: $0) }
            ?? options.aws.settings()
        print("ok    \(column("region")) \(settings.region)")
        for service in [ServiceEndpointInfo.ec2, .ssm, .sts] {
            await check("endpoint \(service.endpointPrefix)") { "\(try settings.endpoint(for: service))" }
        }
        await check("ledger") { try options.openLedger().path }
        await check("payloads") {
            let store = try options.payloadStore()
            let audit = PayloadAudit.run(store)
            guard audit.ok else { throw ValidationError(audit.problems.map(\.description).joined(separator: "; ")) }
            return "\(store.root.path): \(store.manifest.payloads.count) payload versions, all hashes match"
        }
        let session = try AWSSession(settings: settings, observer: options.aws.observer)
        defer { session.shutdown() }
        await check("identity") {
            let id = try await session.sts.getCallerIdentity()
            return "\(id.arn) (credentials from \(try await session.credentials.credentials().source))"
        }
        if let plan {
            let p = try PlanLoader.load(path: plan)
            await check("source \(p.source.instanceId)") {
                guard let i = try await session.ec2.describeAllInstances(instanceIds: [p.source.instanceId]).first else {
                    throw ValidationError("not found")
                }
                let info = try await session.ssm.describeAllInstanceInformation(
                    filters: [InstanceInformationFilter(key: "InstanceIds", values: [i.instanceId])]).first
                guard let info else { throw ValidationError("\(i.state), but not managed by SSM: check the instance profile and the SSM agent") }
                guard info.pingStatus == "Online" else { throw ValidationError("SSM agent \(info.pingStatus ?? "?")") }
                return "\(i.state), SSM \(info.pingStatus ?? "?"), agent \(info.agentVersion ?? "?"), \(info.platformName ?? info.platformType ?? "?")"
            }
            problems += await PermissionReport.check(plan: p, session: session)
            if guest {
                await check("guest preflight") { try await preflight(p.source.instanceId, session: session) }
            }
        }
        if problems > 0 {
            print("\(problems) problem(s) found")
            throw ExitCodes.failed
        }
    }

    /// Runs `preflight` on the source (read-only, recorded in the ledger) and summarises what it found.
    func preflight(_ instance: String, session: AWSSession) async throws -> String {
        let ledger = try options.openLedger()
        defer { ledger.close() }
        let guest = GuestRunner(ssm: session.ssm, store: try options.payloadStore(), ledger: ledger)
        guard let outcome = try await guest.run(payload: "preflight", params: .empty, instanceIds: [instance],
                                                step: "doctor:preflight", runId: nil, reuse: false).first else {
            throw ValidationError("preflight gave no result")
        }
        guard outcome.succeeded, let facts = outcome.envelope?.facts else {
            throw ValidationError("preflight on \(instance): \(outcome.status), envelope \(outcome.verdict.rawValue): \(outcome.reason)")
        }
        let launch = facts["windows"]?["ec2Launch"]
        let blockers = facts["sysprepBlockers"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        let summary = "EC2Launch \(launch?["flavour"]?.stringValue ?? "?") \(launch?["version"]?.stringValue ?? "")"
            + ", \(facts["windows"]?["osCaption"]?.stringValue ?? "Windows")"
        guard blockers.isEmpty else { throw ValidationError("\(summary); Sysprep blockers: \(blockers.joined(separator: ", "))") }
        return summary + ", no Sysprep blocker"
    }
}
