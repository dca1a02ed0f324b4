@testable import AWSCredentials
import AWSHTTP
import Foundation
import Testing

@Suite struct ContainerCredentialTests {
    static let document = """
        {"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"CSECRET","Token":"CTOKEN","Expiration":"2026-11-28T05:00:00.123Z",
         "RoleArn":"arn:aws:iam::1:role/task"}
        """

    @Test func relativeURIGoesToTheECSAgent() async throws {
        let http = FakeTransport { _ in ok(Self.document) }
        let home = try TempHome()
        let creds = try await chain(home, env: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"],
                                    http: http).credentials()
        #expect(creds.accessKeyId == "ASIACONTAINER" && creds.sessionToken == "CTOKEN")
        #expect(creds.expiration != nil)
        let requests = await http.requests
        #expect(requests.map(\.url) == ["http://169.254.170.2/v2/credentials/abc"])
        #expect(!requests[0].headers.contains { $0.name == "Authorization" })
    }

    @Test func fullURIWithTokenAndTokenFile() async throws {
        let home = try TempHome()
        let tokenFile = try home.write("eks-token", "file-token\n")
        let http = FakeTransport { _ in ok(Self.document) }
        let env = ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials",
                   "AWS_CONTAINER_AUTHORIZATION_TOKEN": "env-token"]
        _ = try await ContainerCredentialProvider(environment: env, http: http).credentials()
        _ = try await ContainerCredentialProvider(
            environment: env.merging(["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile]) { $1 }, http: http).credentials()
        let auth = await http.requests.map { $0.headers.first { $0.name == "Authorization" }?.value }
        #expect(auth == ["env-token", "file-token"])
        #expect(await http.requests.allSatisfy { $0.url == "http://169.254.170.23/v1/credentials" })
    }

    @Test func allowedAndDisallowedHosts() async throws {
        func endpoint(_ uri: String) throws -> String? {
            try ContainerCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri],
                                            http: FakeTransport.unreachable()).endpoint()
        }
        #expect(try endpoint("http://127.0.0.1:8080/creds") == "http://127.0.0.1:8080/creds")
        #expect(try endpoint("http://localhost/creds") != nil)
        #expect(try endpoint("http://[fd00:ec2::23]/creds") != nil)
        #expect(try endpoint("https://creds.example.com/x") != nil)
        let message = await expectConfigError(.containerCredentials) { _ = try endpoint("http://evil.example.com/creds") }
        #expect(message.contains("'evil.example.com'") && message.contains("not allowed over http"))
        await expectConfigError(.containerCredentials) { _ = try endpoint("ftp://127.0.0.1/creds") }
        await expectConfigError(.containerCredentials) { _ = try endpoint("not a url") }
    }

    @Test func errorsAreClearAndKeepTheTokenOut() async throws {
        let denied = FakeTransport { _ in ok("{\"message\":\"bad token\"}", status: 403) }
        let env = ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/c",
                   "AWS_CONTAINER_AUTHORIZATION_TOKEN": "SECRET-AUTH-TOKEN"]
        let message = await expectConfigError(.containerCredentials) {
            _ = try await ContainerCredentialProvider(environment: env, http: denied).credentials()
        }
        #expect(message.contains("HTTP 403") && message.contains("bad token") && !message.contains("SECRET-AUTH-TOKEN"))

        let down = FakeTransport.unreachable()
        let unreachable = await expectConfigError(.containerCredentials) {
            _ = try await ContainerCredentialProvider(environment: env, http: down, attempts: 2, retryDelay: .zero)
                .credentials()
        }
        #expect(unreachable.contains("did not answer"))
        #expect(await down.requests.count == 2)

        let garbage = FakeTransport { _ in ok("SecretAccessKey=LEAKY not json") }
        let bad = await expectConfigError(.containerCredentials) {
            _ = try await ContainerCredentialProvider(environment: env, http: garbage).credentials()
        }
        #expect(bad.contains("did not return a JSON object") && !bad.contains("LEAKY"))

        let missingFile = env.merging(["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/nonexistent/token"]) { $1 }
        let noFile = await expectConfigError(.containerCredentials) {
            _ = try await ContainerCredentialProvider(environment: missingFile, http: garbage).credentials()
        }
        #expect(noFile.contains("/nonexistent/token"))
    }
}
