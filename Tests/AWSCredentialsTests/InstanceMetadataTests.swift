@testable import AWSCredentials
import AWSHTTP
import Foundation
import Testing

/// A scripted IMDSv2 service: PUT token, role name, role credentials.
enum IMDSFake {
    static let keyId = "ASIAIMDSKEY"
    static let token = "imds-token-abc"
    static let document = """
        {"Code":"Success","LastUpdated":"2026-11-28T03:00:00Z","Type":"AWS-HMAC","AccessKeyId":"\(keyId)",
         "SecretAccessKey":"IMDSSECRET","Token":"IMDSSESSION","Expiration":"2026-11-28T09:00:00Z"}
        """

    static func transport(base: String = "http://169.254.169.254", requireToken: Bool = true,
                          tokenStatus: Int = 200) -> FakeTransport {
        FakeTransport { request in
            guard request.url.hasPrefix(base) else { throw HTTPTransportError(kind: .connect, message: "no", url: request.url) }
            let path = String(request.url.dropFirst(base.count))
            if request.method == "PUT" && path == "/latest/api/token" {
                return tokenStatus == 200 ? ok(token) : ok("", status: tokenStatus)
            }
            if requireToken && request.headers.first(where: { $0.name == "X-aws-ec2-metadata-token" })?.value != token {
                return ok("", status: 401)
            }
            switch path {
            case "/latest/meta-data/iam/security-credentials/": return ok("web-role\n")
            case "/latest/meta-data/iam/security-credentials/web-role": return ok(document)
            case "/latest/meta-data/placement/region": return ok("eu-north-1")
            default: return ok("not found", status: 404)
            }
        }
    }
}

@Suite struct InstanceMetadataTests {
    @Test func imdsV2TokenFlow() async throws {
        let http = IMDSFake.transport(base: "http://127.0.0.1:9999")
        let provider = InstanceMetadataCredentialProvider(
            environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9999/"], http: http)
        let creds = try await provider.credentials()
        #expect(creds.accessKeyId == IMDSFake.keyId && creds.secretAccessKey == "IMDSSECRET")
        #expect(creds.sessionToken == "IMDSSESSION")
        #expect(creds.expiration == ISO8601DateFormatter().date(from: "2026-11-28T09:00:00Z"))
        #expect(creds.source == "imds role web-role")
        let requests = await http.requests
        #expect(requests.map(\.method) == ["PUT", "GET", "GET"])
        #expect(requests[0].url == "http://127.0.0.1:9999/latest/api/token")
        #expect(requests[0].headers.contains(HTTPHeader("X-aws-ec2-metadata-token-ttl-seconds", "21600")))
        #expect(requests[2].url == "http://127.0.0.1:9999/latest/meta-data/iam/security-credentials/web-role")
        #expect(requests[1...].allSatisfy { $0.headers.contains(HTTPHeader("X-aws-ec2-metadata-token", IMDSFake.token)) })
        #expect(try await provider.region() == "eu-north-1")
    }

    @Test func chainFallsThroughToIMDS() async throws {
        let home = try TempHome()
        let creds = try await chain(home, http: IMDSFake.transport()).credentials()
        #expect(creds.accessKeyId == IMDSFake.keyId)
    }

    @Test func disabledMeansNoRequests() async throws {
        let home = try TempHome()
        let http = IMDSFake.transport()
        let message = await expectConfigError(.noCredentials) {
            _ = try await chain(home, env: ["AWS_EC2_METADATA_DISABLED": "TRUE"], http: http).credentials()
        }
        #expect(message.contains("disabled by AWS_EC2_METADATA_DISABLED"))
        #expect(await http.requests.isEmpty)
    }

    @Test func tokenRefusedFallsBackToV1UnlessDisabled() async throws {
        let http = IMDSFake.transport(requireToken: false, tokenStatus: 403)
        let v1 = try await InstanceMetadataCredentialProvider(environment: [:], http: http).credentials()
        #expect(v1.accessKeyId == IMDSFake.keyId)
        #expect(await http.requests.dropFirst().allSatisfy { !$0.headers.contains { $0.name == "X-aws-ec2-metadata-token" } })
        let strict = InstanceMetadataCredentialProvider(environment: ["AWS_EC2_METADATA_V1_DISABLED": "true"], http: http)
        let message = await expectConfigError(.instanceMetadata) { _ = try await strict.credentials() }
        #expect(message.contains("IMDSv1 is disabled"))
    }

    @Test func noRoleAndServerErrors() async throws {
        let noRole = FakeTransport { r in r.method == "PUT" ? ok("t") : ok("", status: 404) }
        let message = await expectConfigError(.instanceMetadata) {
            _ = try await InstanceMetadataCredentialProvider(environment: [:], http: noRole).credentials()
        }
        #expect(message.contains("no IAM role attached"))
        let failing = FakeTransport { r in
            r.method == "PUT" ? ok("t") : r.url.hasSuffix("/") ? ok("role") : ok("{\"Code\":\"AssumeRoleUnauthorizedAccess\"}")
        }
        let bad = await expectConfigError(.instanceMetadata) {
            _ = try await InstanceMetadataCredentialProvider(environment: [:], http: failing).credentials()
        }
        #expect(bad.contains("AssumeRoleUnauthorizedAccess"))
    }
}
