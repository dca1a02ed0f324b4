import ArgumentParser
import Foundation
import AWSCore
import AWSCredentials

/// `clonectl debug aws-smoke`: drives every AWS call clonectl makes against one endpoint, with real side effects
/// that it undoes: it stops the given instance, images it, launches one instance from the image, tags it,
/// terminates it, deregisters the image, deletes its snapshots and starts the instance again.
/// Meant for a local AWS (the demo) or a throwaway instance; it refuses to run without --yes.
public struct DebugAWSSmokeCommand: AsyncParsableCommand, SelectsOutput {
    public static let configuration = CommandConfiguration(
        commandName: "aws-smoke",
        abstract: "Exercise every AWS call clonectl makes, creating and removing throwaway resources.",
        discussion: """
            Stops INSTANCE, creates an AMI of it, launches one instance from that AMI (with a client token), tags it,
            terminates it, deregisters the AMI, deletes its snapshots and starts INSTANCE again. Also reads the caller
            identity and, with --secure-parameter, a SecureString (its value is never printed). Use it against a local
            AWS or a throwaway instance only: pass --yes to confirm.
            """)

    @OptionGroup public var aws: AWSOptions

    @Option(help: "The instance to stop, image and restart (a throwaway one).")
    public var instance: String

    @Option(help: "Subnet for the test launch (default: the instance's own).")
    public var subnet: String?

    @Option(name: .customLong("instance-type"), help: "Instance type for the test launch.")
    public var instanceType = "t3.micro"

    @Option(name: .customLong("secure-parameter"), help: "A SecureString parameter name to read (value never printed).")
    public var secureParameter: String?

    @OptionGroup public var outputOptions: OutputOptions

    @Flag(help: "Confirm that INSTANCE may be stopped and restarted.")
    public var yes = false

    public init() {}

    public func validate() throws {
        guard instance.hasPrefix("i-"), instance.count >= 10 else {
            throw ValidationError("--instance must be an EC2 instance id like i-0123456789abcdef0, got '\(instance)'")
        }
        guard yes else {
            throw ValidationError("aws-smoke stops and restarts \(instance) and creates and deletes an AMI; pass --yes to confirm")
        }
    }

    var outputFormat: OutputFormat { outputOptions.format }

    public func run() async throws {
        let settings = try aws.settings()
        let report = SmokeReport(format: outputFormat)
        let region = settings.region.name
        do {
            try await withAWSSession(settings, observer: aws.observer) { session in
                try await SmokeRun(session: session, report: report, instance: instance, subnet: subnet,
                                   instanceType: instanceType, secureParameter: secureParameter).run()
            }
        } catch {
            // The summary comes on failure too: it says which step failed.
            throw CLIFailure(code: "smoke-failed", message: CLIFailure.describe(error), exitCode: CLIFailure.Exit.failed,
                             result: report.members(region: region), text: report.summary(region: region))
        }
        Output.success(report.members(region: region), text: report.summary(region: region))
    }
}
