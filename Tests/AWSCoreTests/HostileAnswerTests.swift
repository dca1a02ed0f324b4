import Foundation
import Testing
import AWSHTTP
@testable import AWSCore

/// Answers a hostile or broken endpoint could send: nothing crashes, and nothing of a successful answer is quoted.
@Suite struct HostileAnswerTests {
    static func nested(_ depth: Int) -> [UInt8] {
        Array((String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth)).utf8)
    }

    @Test func deepXMLIsRefusedBeforeATreeIsBuilt() {
        // 60,000 levels used to overflow the stack when the tree was released (SIGSEGV).
        #expect(throws: XMLParseError.self) { try XMLNode.parse(Self.nested(60_000)) }
        do {
            _ = try XMLNode.parse(Self.nested(XMLNode.maxDepth + 1))
            Issue.record("parsed XML deeper than the limit")
        } catch {
            #expect("\(error)".contains("nested deeper than \(XMLNode.maxDepth)"))
        }
        #expect((try? XMLNode.parse(Self.nested(XMLNode.maxDepth))) != nil, "the limit itself is allowed")
    }

    @Test func deepXMLErrorBodyIsAnUnrecognisedErrorNotACrash() {
        let e = AWSErrorParser.parse(response: HTTPResponse(status: 500, headers: [], body: Self.nested(60_000)),
                                     service: "ec2", operation: "DescribeInstances")
        #expect(e.code == "HTTP500")
    }

    @Test func deepJSONAnswerIsMalformedNotACrash() {
        let body = Array((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8)
        #expect(throws: AWSError.self) {
            _ = try JSONProtocol.decode(GetParameterOutput.self, from: HTTPResponse(status: 200, headers: [], body: body),
                                        service: "ssm", operation: "GetParameter")
        }
    }

    @Test func cutAssumeRoleAnswerNeverQuotesTheToken() async throws {
        let token = "FwoGZXIvYXdzEXAMPLESESSIONTOKENvalue1234567890"
        let cut = "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId>"
            + "<SecretAccessKey>wJalrXUtnEXAMPLESECRET</SecretAccessKey><SessionToken>\(token)"
        let transport = ScriptedTransport([.response(200, cut, [])])
        do {
            _ = try await STSClient(client: try makeClient(.sts, transport)).assumeRole(roleArn: "arn:aws:iam::1:role/r", roleSessionName: "s")
            Issue.record("read a cut answer")
        } catch let error as AWSError {
            #expect(error.kind == .malformedResponse)
            #expect(!error.description.contains(token) && !error.description.contains("wJalrXUtn"), "\(error)")
            #expect(error.description.contains("not shown"))
        }
    }

    @Test func malformedParameterAnswerNamesTheFieldNotTheValue() {
        let body = #"{"Parameter":{"Name":"/p","Type":"SecureString","Value":"hunter2-secret","Version":"three"}}"#
        do {
            _ = try JSONProtocol.decode(GetParameterOutput.self, from: HTTPResponse(status: 200, headers: [], body: Array(body.utf8)),
                                        service: "ssm", operation: "GetParameter")
            Issue.record("decoded a string version")
        } catch let error as AWSError {
            #expect(!error.description.contains("hunter2"), "\(error)")
            #expect(error.message.contains("Parameter.Version"), "names the field: \(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

/// AssumeRoleWithWebIdentity goes out without a signature: the token is the proof, and there are no keys yet.
@Suite struct UnsignedCallTests {
    @Test func webIdentityCallCarriesNoAuthorization() async throws {
        let answer = "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
            + "<AccessKeyId>ASIAWEB</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken>"
            + "<Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult>"
            + "</AssumeRoleWithWebIdentityResponse>"
        let transport = ScriptedTransport([.response(200, answer, [])])
        let signed = try makeClient(.sts, transport)
        var options = signed.options
        options.unsigned = true
        let client = AWSClient(service: .sts, endpoint: signed.endpoint, region: "us-east-1", credentials: signed.credentials,
                               transport: transport, retry: signed.retry, options: options)
        let creds = try await STSClient(client: client).assumeRoleWithWebIdentity(
            roleArn: "arn:aws:iam::1:role/ci", roleSessionName: "s", webIdentityToken: "OIDC.TOKEN")
        #expect(creds.accessKeyId == "ASIAWEB")
        let headers = try #require(transport.sent.first).headers.map { $0.name.lowercased() }
        #expect(!headers.contains("authorization") && !headers.contains("x-amz-security-token"), "\(headers)")
        #expect(String(decoding: transport.sent[0].body, as: UTF8.self).contains("WebIdentityToken=OIDC.TOKEN"))
    }
}
