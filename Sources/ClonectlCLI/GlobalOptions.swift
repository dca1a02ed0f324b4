import ArgumentParser
import Foundation
import AWSCore
import AWSCredentials

/// Options every AWS-facing command shares, named as the AWS CLI names them.
public struct AWSOptions: ParsableArguments {
    @Option(help: "Profile from ~/.aws/config and ~/.aws/credentials (default: AWS_PROFILE, then 'default').")
    public var profile: String?

    @Option(help: "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's region).")
    public var region: String?

    @Option(name: .customLong("endpoint-url"),
            help: "Send every AWS call to this URL instead of the default endpoints (e.g. a VPC endpoint or a local AWS).")
    public var endpointURL: String?

    @Flag(name: .customLong("allow-insecure-endpoint"),
          help: "Accept an http:// endpoint on a host other than this machine (requests and the session token then travel in clear).")
    public var allowInsecureEndpoint = false

    @Flag(name: .shortAndLong, help: "Print every AWS call (operation, status, request id, time); never secrets.")
    public var verbose = false

    public init() {}

    /// Resolves flags, environment and shared files into settings; configuration errors read as what to fix.
    public func settings(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AWSSettings {
        // An AWSConfigError goes up as it is: a configuration error (exit 78), not a usage error.
        let settings = try AWSSettings.resolve(ExplicitSettings(profile: profile, region: region, endpointURL: endpointURL,
                                                                allowInsecureEndpoint: allowInsecureEndpoint),
                                               environment: environment)
        for warning in settings.warnings { Console.err("warning: \(warning)") }
        return settings
    }

    /// An observer printing one line per AWS response or retry to standard error, when -v is given.
    public var observer: (@Sendable (AWSCallEvent) -> Void)? {
        guard verbose else { return nil }
        return { event in
            var line: String
            switch event.phase {
            case .attempt: return
            case .response:
                line = "aws: \(event.service) \(event.operation) -> HTTP \(event.httpStatus ?? 0)"
                if let code = event.errorCode { line += " \(code)" }
                if let id = event.requestId { line += " request-id \(id)" }
                if let elapsed = event.elapsed { line += " \(Self.milliseconds(elapsed)) ms" }
            case .retry:
                line = "aws: \(event.service) \(event.operation) attempt \(event.attempt) failed (\(event.errorCode ?? "?")), retrying in \(Self.milliseconds(event.retryDelay ?? .zero)) ms"
            case .failed:
                line = "aws: \(event.service) \(event.operation) gave up after \(event.attempt) attempt(s): \(event.errorCode ?? "?")"
            }
            Console.err(line)
        }
    }

    static func milliseconds(_ d: Duration) -> Int64 {
        d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }
}
