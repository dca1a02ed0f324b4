import AWSSigV4
import ArgumentParser
import ClonectlCLI
import Foundation
import Testing

/// `clonectl debug sigv4`, parsed as the real CLI parses it and run on a vector's request.
@Suite struct DebugSigV4CommandTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

    static func command(_ extra: [String]) throws -> DebugSigV4Command {
        let parsed = try Clonectl.parseAsRoot(["debug", "sigv4", "--region", "us-east-1", "--service", "service",
                                               "--time", "2015-08-30T12:36:00Z", "--access-key-id", "AKIDEXAMPLE"]
                                              + extra)
        return try #require(parsed as? DebugSigV4Command)
    }

    @Test func jsonOutputMatchesTheVectorExactly() throws {
        let vector = try SigV4Vector.load("post-x-www-form-urlencoded-parameters")
        let command = try Self.command(["--sign-body", "--output", "json"])
        let output = try command.render(requestBytes: vector.requestBytes,
                                        environment: ["AWS_SECRET_ACCESS_KEY": Self.secret], now: Date())
        #expect(output.hasSuffix("}\n"), "one JSON document")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect(document["schemaVersion"] as? Int == 1 && document["ok"] as? Bool == true)
        let object = document.compactMapValues { $0 as? String }
        #expect(Set(object.keys) == ["command", "canonicalRequest", "stringToSign", "signature", "authorization"])
        #expect(object["canonicalRequest"] == vector.canonicalRequest)
        #expect(object["stringToSign"] == vector.stringToSign)
        #expect(object["signature"] == vector.signature)
        #expect(object["authorization"] == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
            + "aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, "
            + "Signature=" + vector.signature)
        #expect(!output.contains(Self.secret))
    }

    @Test func textOutputHidesTheSessionTokenButSignsIt() throws {
        let vector = try SigV4Vector.load("get-vanilla-with-session-token")
        let token = try #require(vector.context.credentials.token)
        let command = try Self.command(["--secret-access-key", Self.secret])
        let output = try command.render(requestBytes: vector.requestBytes,
                                        environment: ["AWS_SESSION_TOKEN": token], now: Date())
        for label in ["Canonical request:\n", "String to sign:\n", "Signature:\n", "Authorization header:\n"] {
            #expect(output.contains(label), "missing section \(label)")
        }
        #expect(output.contains("x-amz-security-token:<session-token>\n"))
        #expect(output.contains(vector.stringToSign + "\n"))
        #expect(output.contains("Signature:\n\(vector.signature)\n"))
        #expect(!output.contains(token))
        #expect(!output.contains(Self.secret))
    }

    @Test func flagSecretWinsAndMissingTimeMeansNow() throws {
        let parsed = try Clonectl.parseAsRoot(["debug", "sigv4", "--region", "r", "--service", "s",
                                               "--access-key-id", "AK", "--secret-access-key", "flag-secret",
                                               "--output", "json"])
        let command = try #require(parsed as? DebugSigV4Command)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let output = try command.render(requestBytes: Array("GET / HTTP/1.1\nHost: h\n".utf8),
                                        environment: ["AWS_SECRET_ACCESS_KEY": "env-secret"], now: now)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
            .compactMapValues { $0 as? String }
        let expected = SigV4.sign(try SigV4.parseRawHTTPRequest("GET / HTTP/1.1\nHost: h\n"),
                                  credentials: SigV4Credentials(accessKeyId: "AK", secretAccessKey: "flag-secret"),
                                  region: "r", service: "s", date: now, keyCache: SigningKeyCache())
        #expect(object["signature"] == expected.signature)
        #expect(object["stringToSign"]?.contains("\n20270115T080000Z\n") == true)
    }

    @Test(arguments: [
        (["--time", "2015-08-30"], "ISO-8601"),
        (["--region", ""], "--region must not be empty"),
        (["--service", " "], "--service must not be empty"),
    ])
    func badOptionsFailValidation(extra: [String], message: String) {
        do {
            _ = try Clonectl.parseAsRoot(["debug", "sigv4", "--region", "r", "--service", "s",
                                          "--access-key-id", "AK", "--secret-access-key", "x"] + extra)
            Issue.record("\(extra) was accepted")
        } catch {
            #expect(DebugSigV4Command.message(for: error).contains(message), "\(error)")
        }
    }

    @Test(arguments: [
        ("", "stdin is empty"),
        (" \r\n\n", "stdin is empty"),
        ("GARBAGE\n", "not a raw HTTP request: line 1"),
        ("GET / HTTP/1.1\nHost h\n", "line 2 is not a header"),
    ])
    func badStdinIsAValidationError(input: String, message: String) throws {
        let command = try Self.command(["--secret-access-key", "x"])
        #expect {
            _ = try command.render(requestBytes: Array(input.utf8), environment: [:], now: Date())
        } throws: { error in
            (error as? ValidationError)?.message.contains(message) == true
        }
    }
}

extension DebugSigV4CommandTests {
    @Test func missingSecretIsAValidationError() throws {
        let command = try Self.command([])
        #expect {
            _ = try command.render(requestBytes: Array("GET / HTTP/1.1\nHost: h\n".utf8), environment: [:],
                                   now: Date())
        } throws: { error in
            (error as? ValidationError)?.message.contains("AWS_SECRET_ACCESS_KEY") == true
        }
    }
}
