import ArgumentParser
import Foundation
import ClonectlLedger
import ClonectlReport

/// `clonectl report [RUN]`: the run report from the ledger (no AWS call). A thin command over ClonectlReport.
public struct ReportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a run's report: HTML (self-contained), Markdown, JSON, or the lineage as DOT or Mermaid.",
        discussion: """
            The report is built from the ledger alone: header (plan, operator, region, times, result), failures first,
            the source's downtime, a timeline of the steps with their waits and guest commands, the lineage (source ->
            source AMI -> work copy -> master AMI -> clones) and every guest step per instance. The JSON schema is
            docs/report.schema.json.
            """)

    @Argument(help: "A run id (default: the newest run, or with --plan every run of that plan).") public var runId: String?
    @Option(help: "Every run of this plan (by its name), oldest first. HTML and Markdown: one report after the other; JSON: an array.")
    public var plan: String?
    @Option(help: "html, md, json, dot or mermaid (default: html with --out FILE.html, else md).") public var format: ReportFormatOption?
    @Option(help: "Write the report to this file (default: standard output).") public var out: String?
    @OptionGroup public var store: LedgerOptions
    public init() {}

    public func validate() throws {
        if runId != nil && plan != nil { throw ValidationError("give a run id or --plan, not both") }
    }

    public func run() throws {
        let ledger = try store.openLedger(forReading: true)
        defer { ledger.close() }
        let ids: [String]
        if let plan {
            ids = try ledger.runs(planName: plan).map(\.id)
            guard !ids.isEmpty else { throw ValidationError("no run of plan \(plan) in the ledger \(ledger.path)") }
        } else if let runId {
            ids = [runId]
        } else {
            guard let newest = try ledger.runs(limit: 1).first else { throw ValidationError("no runs in the ledger \(ledger.path) yet") }
            ids = [newest.id]
        }
        let chosen = format?.value ?? (out?.lowercased().hasSuffix(".html") == true ? .html : out?.hasSuffix(".json") == true ? .json : .md)
        let reports = try ids.map { try ReportBuilder.build(ledger: ledger, runId: $0) }
        let text: String
        if reports.count == 1 {
            text = try ReportRenderer.render(reports[0], as: chosen)
        } else if chosen == .json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            text = String(decoding: try encoder.encode(reports), as: UTF8.self) + "\n"
        } else {
            text = try reports.map { try ReportRenderer.render($0, as: chosen) }.joined(separator: chosen == .md ? "\n---\n\n" : "\n")
        }
        if let out {
            try Data(text.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
            FileHandle.standardError.write(Data("report written to \(out)\n".utf8))
        } else {
            print(text, terminator: "")
        }
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
