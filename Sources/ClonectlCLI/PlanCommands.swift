import ArgumentParser
import Foundation
import ClonectlAgent
import ClonectlPlan

/// `clonectl plan ...`: check and show plan files without touching AWS.
public struct PlanCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Check and show plan files (no AWS call is made).",
        subcommands: [PlanValidateCommand.self, PlanShowCommand.self])
    public init() {}
}


public struct PlanValidateCommand: ParsableCommand, SelectsOutput {
    public static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a plan file; every problem is listed with its line, field and what would be valid.")

    @Argument(help: "The plan file (YAML).") public var plan: String
    @OptionGroup public var outputOptions: OutputOptions
    public init() {}

    var outputFormat: OutputFormat { outputOptions.format }

    public func run() throws {
        // A PlanError leaves as exit 65 with every problem (file, line, column, field) in the error document.
        let p = try PlanLoader.load(path: plan)
        Output.success([("plan", .string(plan)), ("valid", .bool(true)), ("name", .string(p.name)),
                        ("sourceInstanceId", .string(p.source.instanceId)), ("clones", .int(Int64(p.clones.count)))],
                       text: "\(plan): valid plan '\(p.name)': source \(p.source.instanceId), \(p.clones.count) clone(s)")
    }
}

public struct PlanShowCommand: ParsableCommand, SelectsOutput {
    public static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print a plan as clonectl reads it, with every default filled in.")

    @Argument(help: "The plan file (YAML).") public var plan: String
    @OptionGroup public var outputOptions: OutputOptions
    public init() {}

    var outputFormat: OutputFormat { outputOptions.format }

    public func run() throws {
        let p = try PlanLoader.load(path: plan)
        Output.success([("path", .string(plan)), ("plan", .foundation(PlanRendering.json(p)))], text: PlanRendering.text(p))
    }
}
