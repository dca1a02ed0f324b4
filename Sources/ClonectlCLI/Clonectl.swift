import ArgumentParser

/// The root command. Subcommands live one per file; each stays thin over the libraries.
public struct Clonectl: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "clonectl",
        abstract: "Clone Windows EC2 instances through SSM Run Command: prep, image, Sysprep, clone, reconfigure.",
        version: BuildInfo.text,
        subcommands: [RunCommand.self, StepCommand.self, StatusCommand.self, HistoryCommand.self, ShowCommand.self,
                      CleanupCommand.self, ReportCommand.self, DoctorCommand.self, PlanCommand.self, PayloadsCommand.self, DocumentsCommand.self,
                      VersionCommand.self, DebugCommand.self]
    )
    public init() {}
}

/// `clonectl debug ...`: tools for operators chasing wire-level problems.
public struct DebugCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "debug",
        abstract: "Wire-level diagnostics.",
        subcommands: [DebugSigV4Command.self, DebugAWSSmokeCommand.self]
    )
    public init() {}
}
