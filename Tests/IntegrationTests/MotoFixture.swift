import Foundation
import AWSCore
import AWSHTTP
import AWSRetry
import AWSCredentials
import TestSupport

/// Clients pointed at the shared local AWS, signed with its bootstrapped IAM user's key (or a wrong one).
struct MotoClients {
    let local: LocalAWS
    let transport: CurlTransport
    let ec2: EC2Client
    let ssm: SSMClient
    let sts: STSClient

    init(secretAccessKey: String? = nil, maxAttempts: Int = 3, local: LocalAWS? = nil) throws {
        let local = try local ?? LocalAWS.shared()
        let transport = try CurlTransport()
        let creds = StaticCredentialProvider(AWSCredentials(
            accessKeyId: local.accessKeyId, secretAccessKey: secretAccessKey ?? local.secretAccessKey, source: "test"))
        var config = RetryConfiguration()
        config.maxAttempts = maxAttempts
        let retry = try RetryStrategy(configuration: config)
        let endpoint = try AWSEndpoint(local.endpoint)
        let make = { (service: AWSService) in
            AWSClient(service: service, endpoint: endpoint, region: local.region, credentials: creds,
                      transport: transport, retry: retry)
        }
        self.local = local
        self.transport = transport
        ec2 = EC2Client(client: make(.ec2))
        ssm = SSMClient(client: make(.ssm))
        sts = STSClient(client: make(.sts))
    }

    /// moto changes state at once; poll quickly.
    static let quick = WaiterConfiguration(minDelay: .milliseconds(50), maxDelay: .milliseconds(200), timeout: .seconds(30))
}
