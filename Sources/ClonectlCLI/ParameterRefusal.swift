import ArgumentParser
import Foundation
import ClonectlAgent
import ClonectlPlan

/// What `step` and `payloads render` check before sending or rendering: the payload's own param() block
/// (ParameterCheck), and time-zone ids against the real Windows list (the payload's pattern accepts any words).
enum ParameterRefusal {
    static let timeZoneParameters: Set<String> = ["timezoneid", "expectedtimezoneid"]

    static func problems(store: PayloadStore, reference: String, params: LoaderParams) throws -> [String] {
        var out = try ParameterCheck.problems(store: store, reference: reference, params: params)
        var values: [(String, JSONValue)] = params.json["common"]?.objectMembers ?? []
        for (_, own) in params.json["byInstance"]?.objectMembers ?? [] { values += own.objectMembers ?? [] }
        if params.json["byInstance"] == nil { values = params.json.objectMembers ?? [] }
        for (key, value) in values where timeZoneParameters.contains(key.lowercased()) {
            if case .string(let id) = value, !id.isEmpty, let problem = WindowsTimeZones.problem(id) {
                let line = "\(key): \(problem)"
                if !out.contains(line) { out.append(line) }
            }
        }
        return out
    }

    /// Refuses with exit 64 when there are problems (each in the error document's `problems`): nothing was sent or
    /// rendered.
    static func refuse(_ problems: [String], reference: String, what: String) throws {
        guard !problems.isEmpty else { return }
        throw CLIFailure(code: "parameters", message: "parameters refused, \(what):\n" + problems.map { "  \($0)" }.joined(separator: "\n")
                            + "\n  (`clonectl payloads show \(reference)` lists its parameters)",
                         exitCode: CLIFailure.Exit.usage, details: [("problems", .strings(problems))])
    }
}
