import ArgumentParser
import Foundation
import AWSCore
import ClonectlLedger
import ClonectlReport

/// `clonectl report [RUN]`: the run report from the ledger; with `--refresh`, the state now of every instance and
/// image of the lineage from AWS (read-only DescribeInstances/DescribeImages). A thin command over ClonectlReport.
public struct ReportCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a run's report: HTML (self-contained), Markdown, JSON, or the lineage as DOT or Mermaid.",
        discussion: """
            The report is built from the ledger: header (plan, operator, region, times, result), failures first,
            the source's downtime, a timeline of the steps with their waits and guest commands, the lineage (source ->
            source AMI -> work copy -> master AMI -> clones) and every guest step per instance. States are as recorded
            at the run's last update; --refresh asks AWS for the state now of every instance and image of the lineage
            (DescribeInstances and DescribeImages by id, read-only, 200 ids a call): an id AWS no longer knows is shown
            as gone; an AWS error is written into the report, and the command exits 1 only when no state at all could
            be read (the report is still written). --plan writes one document for every round of the plan: the rounds,
            the lineage across rounds and each round's detail. The JSON schema is docs/report.schema.json.
            """)

    @Argument(help: "A run id (default: the newest run, or with --plan every run of that plan).") public var runId: String?
    @Option(help: "Every run of this plan (by its name), oldest first, in one document: the rounds table, the lineage across rounds, each round's detail.")
    public var plan: String?
    @Option(help: "html, md, json, dot or mermaid (default: html with --out FILE.html, else md).") public var format: ReportFormatOption?
    @Option(help: "Write the report to this file (default: standard output).") public var out: String?
    @Flag(help: "Ask AWS for the state now of every instance and image in the lineage (read-only), in the run's region.")
    public var refresh = false
    @OptionGroup public var store: LedgerOptions
    @OptionGroup public var aws: AWSOptions
    public init() {}

    public func validate() throws {
        if runId != nil && plan != nil { throw ValidationError("give a run id or --plan, not both") }
    }

    public func run() async throws {
        let ledger = try store.openLedger(forReading: true)
        let ids: [String]
        var reports: [RunReport]
        do {
            defer { ledger.close() }
            if let plan {
                ids = try ledger.runs(planName: plan).map(\.id)
                guard !ids.isEmpty else { throw ValidationError("no run of plan \(plan) in the ledger \(ledger.path)") }
            } else if let runId {
                ids = [runId]
            } else {
                guard let newest = try ledger.runs(limit: 1).first else { throw ValidationError("no runs in the ledger \(ledger.path) yet") }
                ids = [newest.id]
            }
            reports = try ids.map { try ReportBuilder.build(ledger: ledger, runId: $0) }
        }
        var readNothing = false
        if refresh {
            let live = try await Self.readLiveState(reports, aws: aws)
            reports = reports.map { $0.refreshed(with: live) }
            readNothing = live.readNothing
        }
        let chosen = format?.value ?? (out?.lowercased().hasSuffix(".html") == true ? .html : out?.hasSuffix(".json") == true ? .json : .md)
        let text = plan.map { try? PlanReportRenderer.render(PlanReport(plan: $0, runs: reports), as: chosen) }
            ?? (try? ReportRenderer.render(reports[0], as: chosen))
        guard let text else { throw CLIFailure.failed("report", "the report could not be rendered as \(chosen.rawValue)") }
        if let out {
            try Data(text.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
            FileHandle.standardError.write(Data("report written to \(out)\n".utf8))
        } else {
            print(text, terminator: "")
        }
        if readNothing {
            let errors = reports.first?.stateAsOf.errors ?? []
            throw CLIFailure.failed("aws", "--refresh could not read any state from AWS (the report shows the states as recorded): \(errors.first ?? "no answer")")
        }
    }

    /// One read per region the runs were made in (their recorded region; else the usual chain): instances and images
    /// by id, batched (LiveState), each read-only.
    static func readLiveState(_ reports: [RunReport], aws: AWSOptions) async throws -> LiveState {
        var merged = LiveState(at: UTCTimestamp.format(Date()))
        for (region, group) in Dictionary(grouping: reports, by: { $0.header.region ?? "" }).sorted(by: { $0.key < $1.key }) {
            let settings = try region.isEmpty ? aws.settings()
                : aws.settings(planRegion: region, planFile: "the run \(group[0].header.runId) (its recorded region)")
            let session = try AWSSession(settings: settings, observer: aws.observer)
            defer { session.shutdown() }
            let ec2 = session.ec2
            let ids = LiveState.ids(in: group)
            let live = await LiveState.read(
                instanceIds: ids.instances, imageIds: ids.images,
                instances: { batch in
                    try await ec2.describeAllInstances(filters: [EC2Filter("instance-id", batch)]).map { ($0.instanceId, $0.state) }
                },
                images: { batch in
                    try await ec2.describeImages(filters: [EC2Filter("image-id", batch)]).map { ($0.imageId, $0.state) }
                })
            merged.instances.merge(live.instances) { a, _ in a }
            merged.images.merge(live.images) { a, _ in a }
            merged.errors += live.errors
            merged.asked += live.asked
            merged.answered += live.answered
        }
        return merged
    }
}

public struct ReportFormatOption: ExpressibleByArgument, Sendable {
    let value: ReportFormat
    public init?(argument: String) {
        guard let f = ReportFormat(rawValue: argument == "markdown" ? "md" : argument) else { return nil }
        value = f
    }
    public static var allValueStrings: [String] { ReportFormat.allCases.map(\.rawValue) }
}
