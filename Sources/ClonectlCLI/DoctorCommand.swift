import ArgumentParser
import Foundation
import AWSCore
import AWSCredentials
import ClonectlAgent
import ClonectlLedger
import ClonectlPlan
import ClonectlWorkflow

/// `clonectl doctor [PLAN]`: what clonectl would use and whether it works, before anything is changed.
public struct DoctorCommand: AsyncParsableCommand, SelectsOutput {
    public static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check identity, region, endpoints, payloads, the ledger and (with a plan) its instances.")

    @Argument(help: "A plan file whose instances to check.") public var plan: String?
    @Flag(help: "Also run the read-only preflight payload on the plan's source: EC2Launch flavour and version, Sysprep blockers.")
    public var guest = false
    @OptionGroup public var options: ControllerOptions
    public init() {}

    var outputFormat: OutputFormat { options.output }

    public func run() async throws {
        let report = DoctorReport()
        func check(_ label: String, _ body: () async throws -> String) async {
            do {
                report.add(.ok, label, try await body())
            } catch {
                report.add(.fail, label, CLIFailure.describe(error))
            }
        }
        // A configuration problem is one failed check among the others, not the end of the checks.
        var settings: AWSSettings?
        do {
            // A plan's region: is the region its runs use (PlanRegion), so doctor checks that one.
            let s = try plan.map { try options.aws.settings(planRegion: (try? PlanLoader.load(path: $0))?.region, planFile: $0) }
                ?? options.aws.settings()
            settings = s
            report.add(.ok, "region", "\(s.region)")
        } catch {
            report.add(.fail, "configuration", CLIFailure.describe(error), config: true)
        }
        if let settings {
            for service in [ServiceEndpointInfo.ec2, .ssm, .sts, .iam] {
                await check("endpoint \(service.endpointPrefix)") { "\(try settings.endpoint(for: service))" }
            }
        }
        await check("ledger") {
            let ledger = try options.openLedger()
            defer { ledger.close() }
            return ledger.path
        }
        await check("payloads") {
            let store = try options.payloadStore()
            let audit = PayloadAudit.run(store)
            guard audit.ok else { throw ValidationError(audit.problems.map(\.description).joined(separator: "; ")) }
            return "\(store.root.path): \(store.manifest.payloads.count) payload versions, all hashes match"
        }
        var loadedPlan: Plan?
        if let plan {
            do { loadedPlan = try PlanLoader.load(path: plan); report.add(.ok, "plan", "\(plan): valid") } catch {
                report.add(.fail, "plan", CLIFailure.describe(error))
            }
        }
        if let settings {
            let session = try AWSSession(settings: settings, observer: options.aws.observer)
            defer { session.shutdown() }
            await check("identity") {
                let id = try await session.sts.getCallerIdentity()
                return "\(id.arn) (credentials from \(try await session.credentials.credentials().source))"
            }
            if let p = loadedPlan {
                await check("source \(p.source.instanceId)") {
                    guard let i = try await session.ec2.describeAllInstances(instanceIds: [p.source.instanceId]).first else {
                        throw ValidationError("not found in \(settings.region): check the id and the region")
                    }
                    let info = try await session.ssm.describeAllInstanceInformation(
                        filters: [InstanceInformationFilter(key: "InstanceIds", values: [i.instanceId])]).first
                    guard let info else { throw ValidationError("\(i.state), but not managed by SSM: check the instance profile and the SSM agent") }
                    guard info.pingStatus == "Online" else { throw ValidationError("SSM agent \(info.pingStatus ?? "?")") }
                    return "\(i.state), SSM \(info.pingStatus ?? "?"), agent \(info.agentVersion ?? "?"), \(info.platformName ?? info.platformType ?? "?")"
                }
                await check("source opt-in tag") {
                    let i = try await session.ec2.describeAllInstances(instanceIds: [p.source.instanceId]).first
                    guard i?.tag(SourceClaim.optInKey) == SourceClaim.optInValue else {
                        throw SourceClaim.NotOptedIn(instanceId: p.source.instanceId, found: i?.tag(SourceClaim.optInKey))
                    }
                    return "\(SourceClaim.optInKey)=\(SourceClaim.optInValue) (set by an operator; the controller policy requires it)"
                }
                for item in await PermissionReport.check(plan: p, session: session) { report.add(item.status, item.name, item.detail) }
                let names = ((try? options.payloadStore())?.manifest.payloads.map(\.name)).map { Array(Set($0)).sorted() } ?? []
                let send = await SendPermission(plan: p, session: session, payloadNames: names).check()
                report.add(send.status, send.name, send.detail)
                for item in await InstanceRolePermission(plan: p, session: session).checks() { report.add(item.status, item.name, item.detail) }
                if p.documents.mode == .documents {
                    await check("documents \(p.documents.prefix)*") {
                        try await Self.documentsCheck(p, store: try options.payloadStore(), session: session)
                    }
                }
                if let output = p.output, let bucket = output.s3Bucket {
                    // The plan's output: bucket must exist and be reachable, or every guest step is refused
                    // (InvalidOutputFolder) and a cut envelope could not be completed.
                    await check("output bucket") {
                        try await session.s3.headBucket(bucket: bucket)
                        return "s3://\(bucket)/\(output.s3KeyPrefix ?? "") exists (\(session.s3.endpoint.source)); "
                            + "the controller reads cut output there (s3:GetObject), the instance profile writes it (s3:PutObject)"
                    }
                }
                if guest {
                    await check("guest preflight") { try await preflight(p.source.instanceId, delivery: p.delivery, session: session) }
                }
            }
        } else {
            report.add(.skipped, "identity, instances, permissions", "need a working configuration (see above)")
        }
        let failed = report.checks.filter { $0.status == .fail }
        let members: [(String, JSONValue)] = [
            ("checks", report.json),
            ("problems", .int(Int64(failed.count))),
        ]
        guard failed.isEmpty else {
            // A configuration problem makes the whole answer a configuration error (78); any other problem, 1.
            let config = report.checks.contains { $0.config && $0.status == .fail }
            throw CLIFailure(code: config ? "config" : "checks-failed",
                             message: "\(failed.count) problem(s) found: " + failed.map(\.name).joined(separator: ", "),
                             exitCode: config ? CLIFailure.Exit.config : CLIFailure.Exit.failed, result: members)
        }
        Output.success(members, text: "")
    }

    /// Documents mode: SSM must hold every payload version's document with the hash the manifest builds.
    static func documentsCheck(_ plan: Plan, store: PayloadStore, session: AWSSession) async throws -> String {
        let documents = Documents(ssm: session.ssm, store: store, prefix: plan.documents.prefix)
        let states = try await documents.inspect()
        let drift = states.filter { $0.status == .missing || $0.status == .changed }
        guard drift.isEmpty else {
            throw ValidationError(drift.map { "\($0.name) \($0.versionName): \(DocumentsText.explain($0))" }.joined(separator: "; "))
        }
        let unknown = states.filter { $0.status == .unknown }.count
        return "\(states.count - unknown) document version(s) published with the hashes the manifest builds"
            + (unknown > 0 ? " (\(unknown) version(s) not in this manifest)" : "")
    }

    /// Runs `preflight` on the source (read-only, recorded in the ledger) and summarises what it found.
    func preflight(_ instance: String, delivery: Delivery, session: AWSSession) async throws -> String {
        let ledger = try options.openLedger()
        defer { ledger.close() }
        // As the plan's runs send it (inline, or as its documents).
        let guest = GuestRunner(ssm: session.ssm, store: try options.payloadStore(), ledger: ledger, delivery: delivery)
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

/// The checks of `doctor`, printed as they finish in text mode (one line each) and kept for the JSON document.
final class DoctorReport {
    enum Status: String { case ok, fail, unknown, skipped, note }
    struct Check {
        var status: Status
        var name: String
        var detail: String
        var config = false
    }
    private(set) var checks: [Check] = []

    var json: JSONValue {
        .array(checks.map { .object([("name", .string($0.name)), ("status", .string($0.status.rawValue)), ("detail", .string($0.detail))]) })
    }

    func add(_ status: Status, _ name: String, _ detail: String, config: Bool = false) {
        checks.append(Check(status: status, name: name, detail: detail, config: config))
        if !Output.isJSON {
            let mark = ["ok": "ok", "fail": "FAIL", "unknown": "?", "skipped": "skip", "note": "note"][status.rawValue]!
            Console.out(mark.padding(toLength: 6, withPad: " ", startingAt: 0) + column(name) + " " + detail)
        }
    }
}
