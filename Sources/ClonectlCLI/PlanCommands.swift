import ArgumentParser
import Foundation
import ClonectlPlan

/// `clonectl plan ...`: check and show plan files without touching AWS.
public struct PlanCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Check and show plan files (no AWS call is made).",
        subcommands: [PlanValidateCommand.self, PlanShowCommand.self])
    public init() {}
}


public struct PlanValidateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a plan file; every problem is listed with its line, field and what would be valid.")

    @Argument(help: "The plan file (YAML).") public var plan: String
    public init() {}

    public func run() throws {
        do {
            let p = try PlanLoader.load(path: plan)
            print("\(plan): valid plan '\(p.name)': source \(p.source.instanceId), \(p.clones.count) clone(s)")
        } catch let error as PlanError {
            TerminalText.writeError("\(error)\n")
            throw ExitCodes.planInvalid
        }
    }
}

public struct PlanShowCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print a plan as clonectl reads it, with every default filled in.")

    @Argument(help: "The plan file (YAML).") public var plan: String
    @Option(help: "Output format: text or json.") public var output: OutputFormat = .text
    public init() {}

    public func run() throws {
        let p: Plan
        do {
            p = try PlanLoader.load(path: plan)
        } catch let error as PlanError {
            TerminalText.writeError("\(error)\n")
            throw ExitCodes.planInvalid
        }
        switch output {
        case .json:
            let data = try JSONSerialization.data(withJSONObject: PlanRendering.json(p), options: [.sortedKeys, .prettyPrinted])
            print(String(decoding: data, as: UTF8.self))
        case .text:
            print(PlanRendering.text(p))
        }
    }
}
