import ArgumentParser
import Foundation
import ClonectlAgent
import ClonectlWorkflow

/// `clonectl step NAME --instance ID`: one guest step on any instance, verified and recorded, outside any run.
public struct StepCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Run one guest step (a payload) on instances, verify its result and record it.",
        discussion: "Examples: clonectl step verify --instance i-0abc...; clonectl step hostname --instance i-0abc... --param NewName=APP02")

    @Argument(help: "The payload name (see `clonectl payloads list`).") public var name: String
    @Option(help: "Target instance (repeatable, at most 50).") public var instance: [String] = []
    @Option(help: "Payload version (default: the latest).") public var version: String?
    @Option(help: "A parameter K=V (repeatable). V is read as JSON when it is a JSON array, number or boolean.")
    public var param: [String] = []
    @OptionGroup public var options: ControllerOptions
    public init() {}

    public func validate() throws {
        guard !instance.isEmpty, instance.count <= 50 else { throw ValidationError("give 1 to 50 --instance ids") }
        for id in instance where !id.hasPrefix("i-") { throw ValidationError("'\(id)' is not an instance id (i-...)") }
        for p in param where !p.contains("=") { throw ValidationError("--param '\(p)' must be NAME=VALUE") }
    }

    public func run() async throws {
        let members: [(String, JSONValue)] = param.map { p in
            let key = String(p[..<p.firstIndex(of: "=")!])
            let raw = String(p[p.index(after: p.firstIndex(of: "=")!)...])
            let parsed = (try? JSONParser.parse(raw)).flatMap { v -> JSONValue? in
                switch v { case .array, .int, .bool, .number: return v; default: return nil }
            }
            return (key, parsed ?? .string(raw))
        }
        let params: LoaderParams
        do { params = try LoaderParams.plain(members) } catch { throw ValidationError("\(error)") }
        let controller = try Controller.open(options)
        defer { controller.close() }
        let reference = version.map { "\(name)@\($0)" } ?? name
        let quiet = options.quiet
        let outcomes = try await controller.guest.run(payload: reference, params: params, instanceIds: instance,
                                                      step: "step:\(name)", runId: nil, reuse: false) { line in
            if !quiet { print(line) }
        }
        for o in outcomes {
            let status = o.envelope?.status.rawValue ?? "-"
            print("\(o.instanceId): \(o.status), envelope \(o.verdict.rawValue), result \(status)\(o.envelope.map { $0.errors.isEmpty ? "" : ": " + $0.errors.joined(separator: "; ") } ?? ": " + o.reason)")
        }
        print("command \(outcomes.first?.commandId ?? "?") (details: clonectl show \(outcomes.first?.commandId ?? "?"))")
        if !outcomes.allSatisfy(\.succeeded) { throw ExitCodes.failed }
    }
}
