import ClonectlCLI
import Foundation
import Testing

/// `clonectl debug sigv4` on a presigned request: the token in its query string is not printed.
@Suite struct DebugSigV4RedactionTests {
    @Test func queryStringSessionTokenIsRedacted() throws {
        let token = "IQoJb3JpZ2luX2VjEXAMPLE/token+with=special"
        let encoded = token.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let other = "AnotherTokenNotGivenOnTheCommandLine1234"
        let parsed = try Clonectl.parseAsRoot(["debug", "sigv4", "--region", "us-east-1", "--service", "s3",
                                               "--time", "2015-08-30T12:36:00Z", "--access-key-id", "AKIDEXAMPLE",
                                               "--secret-access-key", "secret-key-value", "--session-token", token])
        let command = try #require(parsed as? DebugSigV4Command)
        let request = "GET /k?X-Amz-Security-Token=\(encoded)&x-amz-security-token=\(other)&a=1 HTTP/1.1\r\nHost: b.s3.amazonaws.com\r\n\r\n"
        let output = try command.render(requestBytes: Array(request.utf8), environment: [:], now: Date())
        #expect(!output.contains(encoded) && !output.contains(token) && !output.contains(other), "\(output)")
        #expect(output.contains("X-Amz-Security-Token=<session-token>"), "\(output)")
        #expect(output.contains("a=1"))
    }
}
