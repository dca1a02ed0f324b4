import ArgumentParser
import AWSCore
import ClonectlAgent
import ClonectlPlan
import ClonectlWorkflow
import Foundation

/// `clonectl documents publish|list|verify`: clonectl's own SSM Command documents, one per payload, one version per
/// payload version (documents mode; controller/README.md "Security: the two modes").
public struct DocumentsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "documents",
        abstract: "Publish and check clonectl's SSM Command documents (plan documents.mode: documents).",
        discussion: """
            Each payload version becomes a version of the Command document PREFIX+NAME (default prefix clonectl-),
            its VersionName the payload version, its content the hash-checking loader with the payload embedded.
            Runs in documents mode send only the nonce and the base64 parameters, pinned by DocumentVersion and
            DocumentHash. publish needs the publisher policy (controller/iam/).
            """,
        subcommands: [DocumentsPublishCommand.self, DocumentsListCommand.self, DocumentsVerifyCommand.self])
    public init() {}
}

/// What the three subcommands share: AWS, the payloads, the prefix (flag, else the plan's, else clonectl-).
public struct DocumentsOptions: ParsableArguments {
    @OptionGroup public var aws: AWSOptions
    @Option(help: "The ps-scripts folder (default: CLONECTL_PAYLOADS, the installed copy, or the source checkout's).")
    public var payloads: String?
    @Option(help: "A plan whose documents.prefix and region to use.")
    public var plan: String?
    @Option(help: "Document name prefix (default: the plan's documents.prefix, else clonectl-).")
    public var prefix: String?
    @OptionGroup public var outputOptions: OutputOptions
    public init() {}

    /// The AWS session, the payload store and the prefix; `body` runs with them and the session is closed after.
    func with<T>(_ body: (Documents, AWSSession) async throws -> T) async throws -> T {
        let loaded = try plan.map { try PlanLoader.load(path: $0) }
        let chosen = prefix ?? loaded?.documents.prefix ?? CommandDocument.defaultPrefix
        if let problem = Self.prefixProblem(chosen) { throw CLIFailure.usage("--prefix: \(problem)") }
        let store = try PayloadStore(root: PayloadStore.locate(explicit: payloads))
        let settings = try plan.map { try aws.settings(planRegion: loaded?.region, planFile: $0) } ?? aws.settings()
        let session = try AWSSession(settings: settings, observer: aws.observer)
        defer { session.shutdown() }
        return try await body(Documents(ssm: session.ssm, store: store, prefix: chosen), session)
    }

    static func prefixProblem(_ prefix: String) -> String? {
        do { _ = try CommandDocument.name(prefix: prefix, payload: "x"); return nil } catch { return error.message }
    }
}

public struct DocumentsPublishCommand: AsyncParsableCommand, SelectsOutput {
    public static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Register every payload version as a Command document version (idempotent; a changed released payload is refused).")
    @OptionGroup public var options: DocumentsOptions
    public init() {}
    var outputFormat: OutputFormat { options.outputOptions.format }

    public func run() async throws {
        try await options.with { documents, session in
            do {
                let outcomes = try await documents.publish { line in Console.err(line) }
                Output.success(Self.members(outcomes, refusals: [], region: session.settings.region.name),
                               text: Self.text(outcomes))
            } catch let refused as Documents.PublishRefused {
                throw CLIFailure(code: "documents-refused", message: refused.description, exitCode: CLIFailure.Exit.failed,
                                 result: Self.members(refused.outcomes, refusals: refused.refusals,
                                                      region: session.settings.region.name))
            }
        }
    }

    static func text(_ outcomes: [PublishOutcome]) -> String {
        let changed = outcomes.filter { $0.action != .unchanged }.count
        return outcomes.map { "\($0.name) \($0.versionName): \($0.action.rawValue) (version \($0.documentVersion), sha256 \($0.sha256))" }
            .joined(separator: "\n") + "\n\(changed) of \(outcomes.count) document version(s) published; \(outcomes.count - changed) already current"
    }

    static func members(_ outcomes: [PublishOutcome], refusals: [DocumentsError], region: String) -> [(String, JSONValue)] {
        [("region", .string(region)),
         ("documents", .array(outcomes.map { o in
             .object([("name", .string(o.name)), ("versionName", .string(o.versionName)), ("action", .string(o.action.rawValue)),
                      ("documentVersion", .string(o.documentVersion)), ("sha256", .string(o.sha256))])
         })),
         ("published", .int(Int64(outcomes.filter { $0.action != .unchanged }.count))),
         ("refused", .strings(refusals.map(\.description)))]
    }
}

public struct DocumentsListCommand: AsyncParsableCommand, SelectsOutput {
    public static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Each payload version's document as SSM holds it: current, missing, changed, or unknown to the manifest.")
    @OptionGroup public var options: DocumentsOptions
    public init() {}
    var outputFormat: OutputFormat { options.outputOptions.format }

    public func run() async throws {
        try await options.with { documents, _ in
            let states = try await documents.inspect()
            Output.success(DocumentsText.members(states), text: DocumentsText.table(states))
        }
    }
}

public struct DocumentsVerifyCommand: AsyncParsableCommand, SelectsOutput {
    public static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Exit 1 unless SSM holds exactly the documents the manifest builds (no version missing, changed or unknown).")
    @OptionGroup public var options: DocumentsOptions
    public init() {}
    var outputFormat: OutputFormat { options.outputOptions.format }

    public func run() async throws {
        try await options.with { documents, _ in
            let states = try await documents.inspect()
            let drift = states.filter { $0.status != .current }
            guard drift.isEmpty else {
                let lines = drift.map { "\($0.name) \($0.versionName): \(DocumentsText.explain($0))" }
                throw CLIFailure(code: "documents-drift",
                                 message: "\(drift.count) of \(states.count) document version(s) differ from the manifest:\n" + lines.joined(separator: "\n"),
                                 exitCode: CLIFailure.Exit.failed, result: DocumentsText.members(states))
            }
            Output.success(DocumentsText.members(states), text: "\(states.count) document version(s) match the manifest")
        }
    }
}

enum DocumentsText {
    static func members(_ states: [DocumentState]) -> [(String, JSONValue)] {
        [("documents", .array(states.map { s in
            .object([("name", .string(s.name)), ("versionName", .string(s.versionName)), ("status", .string(s.status.rawValue)),
                     ("documentVersion", .text(s.documentVersion)), ("expectedSha256", .text(s.expectedSha256)),
                     ("publishedSha256", .text(s.publishedSha256))])
        })),
         ("drift", .int(Int64(states.filter { $0.status != .current }.count)))]
    }

    static func table(_ states: [DocumentState]) -> String {
        states.map { s in
            "\(s.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(s.versionName.padding(toLength: 8, withPad: " ", startingAt: 0)) "
                + "\(s.status.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(s.documentVersion.map { "v\($0)" } ?? "-")"
        }.joined(separator: "\n")
    }

    static func explain(_ s: DocumentState) -> String {
        switch s.status {
        case .current: return "current"
        case .missing: return "not published: run `clonectl documents publish`"
        case .changed: return "version \(s.documentVersion ?? "?") has SHA-256 \(s.publishedSha256 ?? "?"), the manifest builds \(s.expectedSha256 ?? "?"): changed behind clonectl's back (delete the document and publish again) or a released payload changed without a new version"
        case .unknown: return "version \(s.documentVersion ?? "?") is not a payload version this manifest lists (published by another clonectl, or by hand)"
        }
    }
}

extension Plan.DocumentDelivery.Mode: ExpressibleByArgument {}
