import ArgumentParser
import AWSCore
import Foundation
import ClonectlAgent
import ClonectlPlan
import ClonectlWorkflow

/// `clonectl step NAME --instance ID`: one guest step on any instances (one or a fleet), verified and recorded,
/// outside any run.
public struct StepCommand: AsyncParsableCommand, SelectsOutput {
    public static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Run one guest step (a payload) on instances, verify its result and record it.",
        discussion: """
            Examples: clonectl step verify --instance i-0abc...; clonectl step hostname --instance i-0abc... --param NewName=APP02;
            clonectl step time-zone --targets fleet.txt --param TimeZoneId="Tokyo Standard Time" --max-concurrency 10%.
            A targets file has one instance per line, optionally followed by its own K=V parameters
            (i-0abc... NewName=APP02); # starts a comment. Instances go in commands of 50, all at once.
            """)

    @Argument(help: "The payload name (see `clonectl payloads list`).") public var name: String
    @Option(help: "Target instance (repeatable).") public var instance: [String] = []
    @Option(help: "A file of target instances, one per line, each optionally with its own K=V parameters.")
    public var targets: String?
    @Option(help: "Payload version (default: the latest).") public var version: String?
    @Option(help: "A parameter K=V for every instance (repeatable). V is read as JSON when it is a JSON array, number or boolean.")
    public var param: [String] = []
    @Option(name: .customLong("max-concurrency"), help: "Run Command MaxConcurrency per command of 50 (a count or a percentage).")
    public var maxConcurrency: String?
    @Option(name: .customLong("max-errors"), help: "Run Command MaxErrors per command of 50 (a count or a percentage).")
    public var maxErrors: String?
    @Option(help: "How the step reaches the instances: inline (AWS-RunPowerShellScript with the loader; the default) or documents (clonectl's published documents, pinned by version and hash; see `clonectl documents`).")
    public var mode: Plan.DocumentDelivery.Mode = .inline
    @Option(name: .customLong("documents-prefix"), help: "Document name prefix in documents mode (default clonectl-).")
    public var documentsPrefix: String = CommandDocument.defaultPrefix
    @Option(name: .customLong("output-s3-bucket"),
            help: "Also have the agent upload each instance's whole output to this S3 bucket (as a plan's output.s3Bucket); an envelope cut at 24,000 bytes is then read from there.")
    public var outputS3Bucket: String?
    @Option(name: .customLong("output-s3-key-prefix"), help: "The key prefix in --output-s3-bucket (at most 500 characters).")
    public var outputS3KeyPrefix: String?
    @Option(name: .customLong("output-log-group"), help: "Also stream the output to this CloudWatch Logs group.")
    public var outputLogGroup: String?
    @OptionGroup public var options: ControllerOptions
    public init() {}

    public func validate() throws {
        guard !instance.isEmpty || targets != nil else { throw ValidationError("give --instance ids or a --targets file") }
        for id in instance where !id.hasPrefix("i-") { throw ValidationError("'\(id)' is not an instance id (i-...)") }
        for p in param where !p.contains("=") { throw ValidationError("--param '\(p)' must be NAME=VALUE") }
        if let v = maxConcurrency, let problem = RunCommandRateControl.maxConcurrencyProblem(v) {
            throw ValidationError("--max-concurrency: \(problem)")
        }
        if let v = maxErrors, let problem = RunCommandRateControl.maxErrorsProblem(v) {
            throw ValidationError("--max-errors: \(problem)")
        }
        if let problem = DocumentsOptions.prefixProblem(documentsPrefix) {
            throw ValidationError("--documents-prefix: \(problem)")
        }
        if let problem = output?.problems.first { throw ValidationError("--output-*: \(problem)") }
    }

    /// sysprep-logs 1.2.0's `Whole=true` prints an envelope over Run Command's 24,000 characters: without a bucket
    /// for the agent to upload the whole stdout to, it would only come back cut (truncated). Refused before anything
    /// is sent, saying what to fix.
    static func wholeWithoutBucket(name: String, common: [(String, JSONValue)], fleet: [(String, [(String, JSONValue)])],
                                   bucket: String?) -> String? {
        guard name == "sysprep-logs", bucket == nil else { return nil }
        let asked = (common + fleet.flatMap(\.1)).contains { $0.0 == "Whole" && $0.1 != .bool(false) && $0.1 != .int(0) }
        guard asked else { return nil }
        return "sysprep-logs with Whole=true needs --output-s3-bucket BUCKET: Run Command keeps only 24,000 characters "
            + "of a command's output, and whole Panther logs are longer; the agent uploads the whole output to the bucket "
            + "and clonectl reads and verifies it there. Give a bucket (the instance profile may write to it), or leave "
            + "Whole out for the tails. Nothing was sent."
    }

    /// The same as a plan's `output:`.
    var output: Plan.Output? {
        let o = Plan.Output(s3Bucket: outputS3Bucket, s3KeyPrefix: outputS3KeyPrefix, cloudWatchLogGroup: outputLogGroup)
        return o == Plan.Output() ? nil : o
    }

    var outputFormat: OutputFormat { options.output }

    public func run() async throws {
        let common = param.map(Self.member)
        let fleet: [(String, [(String, JSONValue)])]
        do {
            fleet = try instance.map { ($0, []) } + (targets.map(Self.readTargets) ?? [])
        } catch let error as ValidationError {
            throw CLIFailure.usage(error.message)
        }
        var seen = Set<String>()
        for (id, _) in fleet where !seen.insert(id).inserted {
            throw CLIFailure.usage("\(id) is named twice (in --instance or --targets); name each instance once")
        }
        let params: LoaderParams
        do {
            params = fleet.contains(where: { !$0.1.isEmpty })
                ? try LoaderParams.perInstance(common: common, byInstance: fleet)
                : try LoaderParams.plain(common)
        } catch { throw CLIFailure.usage("\(error)") }
        let reference = version.map { "\(name)@\($0)" } ?? name
        // Checked against the payload's param() block before any AWS call: a typo fails here, not on the guest.
        try ParameterRefusal.refuse(try ParameterRefusal.problems(store: try options.payloadStore(), reference: reference, params: params),
                                    reference: reference, what: "nothing sent")
        if let problem = Self.wholeWithoutBucket(name: name, common: common, fleet: fleet, bucket: outputS3Bucket) {
            throw CLIFailure.usage(problem)
        }
        let controller = try Controller.open(options)
        defer { controller.close() }
        let quiet = options.quiet
        let outcomes: [GuestOutcome]
        do {
            let delivery: Delivery = mode == .documents ? .documents(prefix: documentsPrefix) : .inline
            var guest = controller.guest.with(delivery: delivery)
            guest.output = output
            outcomes = try await guest.run(
                payload: reference, params: params, instanceIds: fleet.map(\.0), step: "step:\(name)", runId: nil,
                reuse: false, rateControl: RateControl(maxConcurrency: maxConcurrency, maxErrors: maxErrors),
                retainFacts: fleet.count > 1 ? [] : nil) { line in
                if !quiet { Console.err(line) }
            }
        } catch let error as AWSError {
            // A wrong id, region or permission: say what to check (AWSErrorHints), not only SSM's words.
            let hint = AWSErrorHints.hint(code: error.code, message: error.message,
                                          region: controller.session.settings.region.name).map { "\n\($0)" } ?? ""
            throw CLIFailure.failed("aws", "\(error)\(hint)")
        }
        var text: [String] = []
        for o in outcomes {
            let status = o.envelope?.status.rawValue ?? "-"
            text.append("\(o.instanceId): \(o.status), envelope \(o.verdict.rawValue), result \(status)\(o.envelope.map { $0.errors.isEmpty ? "" : ": " + $0.errors.joined(separator: "; ") } ?? ": " + o.reason)")
        }
        var commands: [String] = []
        for o in outcomes where !commands.contains(o.commandId) { commands.append(o.commandId) }
        for id in commands { text.append("command \(id) (details: clonectl show \(id))") }
        let failed = outcomes.filter { !$0.succeeded }.count
        if outcomes.count > 1 { text.append("\(outcomes.count - failed) of \(outcomes.count) instance(s) succeeded") }
        let members: [(String, JSONValue)] = [
            ("payload", .string(reference)), ("mode", .string(mode.rawValue)), ("commands", .strings(commands)),
            ("succeeded", .int(Int64(outcomes.count - failed))), ("failed", .int(Int64(failed))),
            ("instances", .array(outcomes.map { o in
                .object([("instance", .string(o.instanceId)), ("command", .string(o.commandId)), ("status", .string(o.status)),
                         ("statusDetails", .text(o.statusDetails)), ("responseCode", .integer(o.responseCode)),
                         ("verdict", .string(o.verdict.rawValue)), ("result", .text(o.envelope?.status.rawValue)),
                         ("succeeded", .bool(o.succeeded)),
                         ("changed", .array(o.envelope?.changed ?? [])),
                         ("errors", .strings(o.envelope?.errors ?? (o.succeeded ? [] : [o.reason])))])
            })),
        ]
        guard failed == 0 else {
            throw CLIFailure(code: "step-failed", message: "\(name) did not succeed on \(failed) of \(outcomes.count) instance(s); "
                                + "`clonectl show \(commands.first ?? "COMMAND")` has the full output",
                             exitCode: CLIFailure.Exit.failed, result: members, text: text.joined(separator: "\n"))
        }
        Output.success(members, text: text.joined(separator: "\n"))
    }

    /// `K=V`, V read as JSON when it is an array, a number or a boolean.
    static func member(_ p: String) -> (String, JSONValue) {
        let key = String(p[..<p.firstIndex(of: "=")!])
        let raw = String(p[p.index(after: p.firstIndex(of: "=")!)...])
        let parsed = (try? JSONParser.parse(raw)).flatMap { v -> JSONValue? in
            switch v { case .array, .int, .bool, .number: return v; default: return nil }
        }
        return (key, parsed ?? .string(raw))
    }

    /// A targets file: `INSTANCE_ID [K=V ...]` per line; blank lines and `#` comments are skipped. A value with
    /// spaces is written in double quotes (`TimeZoneId="Tokyo Standard Time"`).
    static func readTargets(_ path: String) throws -> [(String, [(String, JSONValue)])] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ValidationError("cannot read the targets file \(path)")
        }
        var out: [(String, [(String, JSONValue)])] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let words = try Self.words(content, at: "\(path):\(n + 1)")
            guard let id = words.first else { continue }
            guard id.hasPrefix("i-") else {
                throw ValidationError("\(path):\(n + 1): '\(id)' is not an instance id (i-...); each line is INSTANCE_ID [K=V ...]")
            }
            for w in words.dropFirst() where !w.contains("=") || w.hasPrefix("=") {
                throw ValidationError("\(path):\(n + 1): '\(w)' must be NAME=VALUE")
            }
            out.append((id, words.dropFirst().map(Self.member)))
        }
        guard !out.isEmpty else { throw ValidationError("the targets file \(path) names no instance") }
        return out
    }

    /// Splits on spaces, keeping double-quoted runs together (the quotes are dropped).
    static func words(_ line: String, at place: String) throws -> [String] {
        var words: [String] = [], current = "", quoted = false, any = false
        for ch in line {
            if ch == "\"" { quoted.toggle(); any = true; continue }
            if (ch == " " || ch == "\t" || ch == "\r") && !quoted {
                if any { words.append(current) }
                current = ""; any = false
                continue
            }
            current.append(ch); any = true
        }
        guard !quoted else { throw ValidationError("\(place): a double quote is not closed") }
        if any { words.append(current) }
        return words
    }
}
