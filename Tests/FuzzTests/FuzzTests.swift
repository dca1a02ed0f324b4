import Foundation
import Testing
import AWSHTTP
@testable import AWSCore
@testable import AWSCredentials
@testable import ClonectlAgent
@testable import ClonectlPlan
import ClonectlCrypto

/// A bounded mutation loop over every reader of hostile text: AWS's XML and JSON answers, the shared config files,
/// plans and result envelopes. Each target runs a few seconds from a committed seed corpus
/// (Tests/Fixtures/fuzz-corpus/) with a fixed seed. A crash fails the run; each target also checks an invariant
/// of what it accepted.
@Suite(.serialized) struct FuzzTests {
    static let xmlTokens = ["<a>", "</a>", "<item>", "</item>", "<![CDATA[", "]]>", "&amp;", "&#0;", "<?xml version=\"1.0\"?>",
                            "<!DOCTYPE x [<!ENTITY e \"x\">]>", "&e;", "<Errors><Error><Code>", "</Code>", "\u{1B}[2J"]
    static let jsonTokens = ["{", "}", "[", "]", "\"a\":", "\"a\":1,", ",", "\"\\u0000\"", "\"\\ud800\"", "1e999", "-0",
                             "null", "true", "\"__type\":", "\"Version\":", "\"status\":", "\u{1B}"]

    static func depth(_ node: XMLNode) -> Int {
        1 + (node.children.map(depth).max() ?? 0)
    }

    static func uniqueKeys(_ value: JSONValue) -> Bool {
        if let members = value.objectMembers {
            return Set(members.map(\.0)).count == members.count && members.allSatisfy { uniqueKeys($0.1) }
        }
        return value.arrayValue?.allSatisfy(uniqueKeys) ?? true
    }

    @Test func xmlDecoders() throws {
        try fuzz("xml", corpus: "xml", dictionary: Self.xmlTokens, seed: 0x13_0001) { bytes in
            if let root = try? XMLNode.parse(bytes) {
                #expect(Self.depth(root) <= XMLNode.maxDepth)
            }
            let error = AWSErrorParser.parse(response: HTTPResponse(status: 400, headers: [], body: bytes),
                                             service: "ec2", operation: "DescribeInstances")
            #expect(!error.code.isEmpty)
        }
    }

    @Test func jsonDecoders() throws {
        try fuzz("json", corpus: "json", dictionary: Self.jsonTokens, seed: 0x13_0002) { bytes in
            if let value = try? JSONParser.parse(bytes) {
                #expect(Self.uniqueKeys(value), "the strict parser accepted a repeated member name")
            }
            let response = HTTPResponse(status: 200, headers: [], body: bytes)
            _ = try? JSONProtocol.decode(ListCommandInvocationsOutput.self, from: response, service: "ssm", operation: "L")
            _ = try? JSONProtocol.decode(SendCommandOutput.self, from: response, service: "ssm", operation: "S")
            do {
                _ = try JSONProtocol.decode(GetParameterOutput.self, from: response, service: "ssm", operation: "GetParameter")
            } catch let error as AWSError {
                // A successful answer's bytes are never quoted: the seed's parameter value cannot show up whole.
                #expect(!error.message.contains("hunter2-secret") || String(decoding: bytes, as: UTF8.self).components(separatedBy: "hunter2-secret").count > 2,
                        "\(error.message)")
            }
            _ = AWSErrorParser.parse(response: HTTPResponse(status: 400, headers: [], body: bytes), service: "ssm", operation: "X")
        }
    }

    @Test func configParser() throws {
        try fuzz("config", corpus: "config", dictionary: ["[profile ", "[services ", "]", " = ", "  ", "\n", "\r\n", " # ",
                                                            " ; ", "\u{FEFF}", "[default]", "endpoint_url = ", "\t"],
                 seed: 0x13_0003) { bytes in
            let text = String(decoding: bytes, as: UTF8.self)
            for kind in [ConfigFileKind.config, .credentials] {
                var warnings: [String] = []
                if let sections = try? ConfigFileParser.parse(text, kind: kind, label: "f", warnings: &warnings) {
                    #expect(sections.allSatisfy { !$0.header.isEmpty })
                }
            }
            _ = try? ShellWords.split(text)
        }
    }

    @Test func planLoader() throws {
        try fuzz("plan", corpus: "plan", dictionary: ["- ", "  ", "[", "]", "{", "}", ": ", "&a ", "*a", "!!str ", "\"", "'",
                                                        "clones:\n", "\t", "\u{1B}", "? ", "|\n", "---\n"],
                 seed: 0x13_0004) { bytes in
            guard let text = String(validating: bytes, as: UTF8.self) else { return }
            do {
                let plan = try PlanLoader.parse(text, file: "fuzz.yaml")
                #expect(plan.clones.count <= PlanLoader.maxClones)
            } catch let error as PlanError {
                for issue in error.issues where issue.message.hasPrefix("not valid YAML") && issue.message.contains("\n      ") {
                    // A source line is quoted only when its key looks like no secret, and the seed's password
                    // value is never shown through a YAML error.
                    let source = issue.line.flatMap { PlanYAMLError.sourceLine($0, in: text) } ?? ""
                    #expect(PlanYAMLError.quotable(source), "quoted: \(source)")
                    #expect(!issue.message.contains("password: hunter2"), "\(issue.message)")
                }
            }
        }
    }

    @Test func envelopeVerifier() throws {
        let nonce = "0123456789abcdef0123456789abcdef", sha = String(repeating: "0", count: 64)
        try fuzz("envelope", corpus: "envelope", dictionary: ["\r\n", "\n", "-----BEGIN CLONECTL RESULT v1-----\r\n",
                                                                "-----END CLONECTL RESULT sha256=", "\"status\":\"ok\",", "\u{EF}\u{BB}\u{BF}"],
                 seed: 0x13_0005) { bytes in
            let output = String(decoding: bytes, as: UTF8.self)
            let v = EnvelopeVerifier.verify(output: output, nonce: nonce, payloadSha256: sha, instanceId: "i-0abc1234def567890")
            if v.verdict == .verified {
                // Checked again from scratch: a verified envelope is exactly what the END line's hash covers.
                let e = try #require(v.envelope)
                #expect(e.nonce == nonce && e.payloadSha256 == sha && e.instanceId == "i-0abc1234def567890")
                #expect(v.jsonSha256.map { output.contains("sha256=\($0)-----") } == true)
            }
        }
    }
}
