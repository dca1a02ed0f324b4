import Foundation
import AWSHTTP
import AWSRetry
import AWSCredentials

/// Everything needed to talk to AWS, resolved once from flags, environment and ~/.aws the way the AWS CLI does:
/// one transport, one retry strategy (shared by all services, so rate limits are per process), one credential
/// provider, and a client per service. Call `shutdown()` when done (or use `withSession`).
public final class AWSSession: Sendable {
    public let settings: AWSSettings
    public let transport: CurlTransport
    public let retry: RetryStrategy
    public let credentials: CredentialProvider
    public let ec2: EC2Client
    public let ssm: SSMClient
    public let sts: STSClient
    /// `doctor` asks IAM's policy simulator whether the caller may send the plan's commands.
    public let iam: IAMClient
    /// Reads Run Command's full output when the plan names an S3 bucket.
    public let s3: S3Client

    /// `attemptTimeout`: the limit of one HTTP attempt (default 60 s). It also bounds how long a call that acts
    /// may still land after it went out, which a resume waits out before it repeats such a call.
    public init(settings: AWSSettings, observer: (@Sendable (AWSCallEvent) -> Void)? = nil,
                attemptTimeout: Duration? = nil) throws {
        self.settings = settings
        let network = settings.network
        transport = try CurlTransport(configuration: CurlTransportConfiguration(
            caBundlePath: network.caBundlePath, proxy: network.httpsProxy, httpProxy: network.httpProxy,
            noProxy: network.noProxy.isEmpty ? nil : network.noProxy.joined(separator: ",")))
        // Unless the operator chose a retry mode, every API is paced adaptively: fleet work sends many calls of one
        // API at once, and a throttled API should slow down by itself without starving the others.
        let adaptive = settings.retryMode == .adaptive || !settings.retryModeExplicit
        var retryConfiguration = RetryConfiguration(mode: adaptive ? .adaptive : .standard)
        if let attempts = settings.maxAttempts { retryConfiguration.maxAttempts = attempts }
        retry = try RetryStrategy(configuration: retryConfiguration)

        let options = {
            var o = AWSClient.Options()
            o.observer = observer
            if let attemptTimeout { o.attempt.timeout = attemptTimeout }
            return o
        }()
        let region = settings.region.name
        let transport = self.transport
        let retry = self.retry
        let stsResolved = try settings.endpoint(for: .sts)
        let stsEndpoint = try AWSEndpoint(stsResolved.url)
        // The legacy global STS host only takes us-east-1 signatures, whatever region the profile names.
        let stsGlobal = stsResolved.signingRegion != region
        // AssumeRole is signed with the source profile's credentials, through the same transport and retries.
        let assumeRole: AssumeRoleFunction = { request in
            let client = AWSClient(service: .sts, endpoint: stsEndpoint,
                                   region: stsGlobal ? stsResolved.signingRegion : request.region ?? region,
                                   credentials: StaticCredentialProvider(request.sourceCredentials),
                                   transport: transport, retry: retry, options: options)
            return try await STSClient(client: client).assumeRole(
                roleArn: request.roleArn, roleSessionName: request.roleSessionName,
                externalId: request.externalId, durationSeconds: request.durationSeconds)
        }
        // AssumeRoleWithWebIdentity is not signed: the OIDC token is the proof.
        let webIdentity: AssumeRoleWithWebIdentityFunction = { request in
            var unsigned = options
            unsigned.unsigned = true
            let client = AWSClient(service: .sts, endpoint: stsEndpoint, region: stsResolved.signingRegion,
                                   credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: "", secretAccessKey: "",
                                                                                        source: "none")),
                                   transport: transport, retry: retry, options: unsigned)
            return try await STSClient(client: client).assumeRoleWithWebIdentity(
                roleArn: request.roleArn, roleSessionName: request.roleSessionName,
                webIdentityToken: request.webIdentityToken, durationSeconds: request.durationSeconds)
        }
        let credentials = settings.makeCredentialProvider(http: transport, assumeRole: assumeRole, webIdentity: webIdentity)
        self.credentials = credentials
        func client(_ service: AWSService) throws -> AWSClient {
            let resolved = try settings.endpoint(for: service)
            return AWSClient(service: service, endpoint: try AWSEndpoint(resolved.url), region: resolved.signingRegion,
                      credentials: credentials, transport: transport, retry: retry, options: options)
        }
        ec2 = EC2Client(client: try client(.ec2))
        ssm = SSMClient(client: try client(.ssm))
        sts = STSClient(client: try client(.sts))
        iam = IAMClient(client: try client(.iam))
        let s3Resolved = try settings.endpoint(for: .s3)
        s3 = S3Client(client: try client(.s3), endpoint: s3Resolved, settings: try settings.s3Settings())
    }

    public func shutdown() { transport.shutdown() }
}

/// Runs `body` with a session and always shuts it down.
public func withAWSSession<T>(_ settings: AWSSettings, observer: (@Sendable (AWSCallEvent) -> Void)? = nil,
                              _ body: (AWSSession) async throws -> T) async throws -> T {
    let session = try AWSSession(settings: settings, observer: observer)
    defer { session.shutdown() }
    return try await body(session)
}
