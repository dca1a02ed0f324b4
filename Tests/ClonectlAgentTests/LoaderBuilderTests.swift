import ClonectlCrypto
import Foundation
import Testing
@testable import ClonectlAgent

@Suite struct LoaderBuilderTests {
    static let nonce = "00112233445566778899aabbccddeeff"

    /// The single-quoted literals of a loader, in order.
    func literals(_ text: String) -> [String] {
        text.split(separator: "'", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    /// The literal assigned to `key` in the loader's `$c = @{ ... }` table.
    func value(_ key: String, in text: String) throws -> String {
        let marker = "\(key) = '"
        let start = try #require(text.range(of: marker)).upperBound
        return String(text[start...].prefix { $0 != "'" })
    }

    func gunzip64(_ b64: String) throws -> [UInt8] {
        try Gzip.decompress([UInt8](try #require(Data(base64Encoded: b64))))
    }

    @Test func buildsALoaderThatDecodesBackToTheReleasedBytes() throws {
        let store = try AgentFixtures.store()
        let cmd = try LoaderBuilder.build(store: store, reference: "hostname",
                                          params: try .plain([("NewName", .string("APP02"))]), nonce: Self.nonce)
        let text = cmd.text
        #expect(!text.contains("{{") && !text.contains("__CLONECTL_"))
        #expect(text.hasPrefix("# clonectl loader v1 (fixture): hostname@1.1.0\n"))
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=.-")
        for literal in literals(text) { #expect(literal.allSatisfy(allowed.contains), "literal '\(literal.prefix(40))'") }

        let script = try AgentFixtures.bytes("payloads/hostname/1.1.0.ps1")
        let module = try AgentFixtures.bytes("agent/1.0.0/CloneAgent.psm1")
        #expect(try gunzip64(try value("Script", in: text)) == script)
        #expect(try gunzip64(try value("Module", in: text)) == module)
        #expect(try value("PayloadSha256", in: text) == Hex.encode(Crypto.sha256(script)))
        #expect(try value("ModuleSha256", in: text) == Hex.encode(Crypto.sha256(module)))
        #expect(try value("Nonce", in: text) == Self.nonce)
        let params = try #require(Data(base64Encoded: try value("Params", in: text)))
        #expect(String(decoding: params, as: UTF8.self) == #"{"NewName":"APP02"}"#)

        #expect(cmd.record == LoaderRecord(payload: "hostname", version: "1.1.0", payloadSha256: Hex.encode(Crypto.sha256(script)),
                                           moduleVersion: "1.0.0", moduleSha256: Hex.encode(Crypto.sha256(module)),
                                           loaderVersion: "1.0.0", nonce: Self.nonce, paramsJSON: #"{"NewName":"APP02"}"#))
        #expect(cmd.size == text.utf8.count && cmd.size < LoaderBuilder.maxCharacters)
    }

    @Test func perInstanceParamsTravelAsOneObject() throws {
        let params = try LoaderParams.perInstance(
            common: [("Restart", .bool(false))],
            byInstance: [("i-0abc1234def567890", [("NewName", .string("APP02"))]),
                         ("i-0abc1234def567891", [("NewName", .string("APP03"))])])
        let cmd = try LoaderBuilder.build(store: try AgentFixtures.store(), reference: "hostname@1.1.0", params: params,
                                          nonce: Self.nonce)
        let decoded = try JSONParser.parse([UInt8](try #require(Data(base64Encoded: try value("Params", in: cmd.text)))))
        #expect(decoded["common"]?["Restart"] == .bool(false))
        #expect(decoded["byInstance"]?["i-0abc1234def567891"]?["NewName"] == .string("APP03"))
        #expect(params.instanceIds == ["i-0abc1234def567890", "i-0abc1234def567891"])
        #expect(throws: AgentError.self) { try LoaderParams(json: try JSONParser.parse(#"{"byInstance":{"web-1":{}}}"#)) }
        #expect(throws: AgentError.self) { try LoaderParams(json: try JSONParser.parse(#"{"common":{},"byInstance":{"i-0abc1234":{}},"X":1}"#)) }
    }

    @Test func aFleetCommandCarriesOnlyItsOwnInstancesParameters() throws {
        // 120 clones: the parameters of the whole fleet would not fit one loader; each command of 50 carries its own.
        let ids = (0..<120).map { String(format: "i-0abc1234def5%05x", $0) }
        let all = try LoaderParams.perInstance(common: [("Restart", .bool(false))],
                                               byInstance: ids.map { ($0, [("NewName", .string("N\($0.suffix(5))"))]) })
        let group = Array(ids[50..<100])
        let mine = all.restricted(to: group)
        #expect(mine.instanceIds == group)
        #expect(mine.json["common"]?["Restart"] == .bool(false))
        #expect(mine.json["byInstance"]?[ids[60]]?["NewName"] == all.json["byInstance"]?[ids[60]]?["NewName"])
        #expect(mine.json["byInstance"]?[ids[0]] == nil)
        let cmd = try LoaderBuilder.build(store: try AgentFixtures.store(), reference: "hostname@1.1.0", params: mine,
                                          nonce: Self.nonce)
        #expect(cmd.size < LoaderBuilder.maxCharacters)
        // Plain parameters go to every instance as they are.
        let plain = try LoaderParams.plain([("TimeZoneId", .string("UTC"))])
        #expect(plain.restricted(to: group) == plain)
    }

    @Test(arguments: ["Password", "AdminPassword", "ApiToken", "Credential", "ClientSecret", "password"])
    func secretLookingParamsAreRefused(_ key: String) throws {
        let value = "hunter2-do-not-echo"
        for json in [#"{"\#(key)":"\#(value)"}"#, #"{"common":{},"byInstance":{"i-0abc1234def567890":{"\#(key)":"\#(value)"}}}"#] {
            #expect { try LoaderParams(json: try JSONParser.parse(json)) } throws: { error in
                let m = "\(error)"
                return (error as? AgentError)?.kind == .badParameters && m.contains(key) && m.contains("Parameter Store")
                    && !m.contains(value)
            }
        }
    }

    @Test func secretNamesOfParameterStoreEntriesAreFine() throws {
        let p = try LoaderParams.plain([("PasswordParameter", .string("/clonectl/work-user")),
                                        ("CredentialParameter", .string("/clonectl/join")), ("UserName", .string("clonework"))])
        #expect(p.encoded.contains("PasswordParameter"))
        #expect(throws: AgentError.self) { try LoaderParams.plain([("New Name", .string("x"))]) }
        #expect(throws: AgentError.self) { try LoaderParams.plain([("a", .int(1)), ("A", .int(2))]) }
    }

    func render(template: String, script: [UInt8] = Array("param()\n".utf8), payload: String = "hostname",
                version: String = "1.0.0") throws -> LoaderCommand {
        try LoaderBuilder.render(template: Array(template.utf8), loaderVersion: "1.0.0", payload: payload, version: version,
                                 script: script, moduleVersion: "1.0.0", module: Array("# m\n".utf8), params: .empty,
                                 nonce: Self.nonce)
    }

    var fullTemplate: String { LoaderBuilder.Placeholder.allCases.map { "'\($0.rawValue)'" }.joined(separator: "\n") }

    @Test func sizeLimitNamesPayloadAndSize() throws {
        var rng = SystemRandomNumberGenerator()
        let noise = (0..<40_000).map { _ in UInt8.random(in: 0...255, using: &rng) }  // incompressible: ~54,000 in base64
        #expect { try render(template: fullTemplate, script: noise) } throws: { error in
            let m = "\(error)"
            return m.contains("hostname@1.0.0") && m.contains("over the 48000 limit")
                && m.range(of: #"is \d{5} characters"#, options: .regularExpression) != nil
        }
        #expect(try render(template: fullTemplate, script: Array(noise.prefix(20_000))).size <= LoaderBuilder.maxCharacters)
    }

    @Test func templateAndShapeErrors() throws {
        #expect { try render(template: "'__CLONECTL_PAYLOAD__'") } throws: { "\($0)".contains("lacks the placeholder __CLONECTL_VERSION__") }
        #expect { try render(template: fullTemplate + "\n{{ ssm:param }}") } throws: { "\($0)".contains("'{{'") }
        #expect { try render(template: fullTemplate + "\n__CLONECTL_EXTRA__") } throws: { "\($0)".contains("unknown __CLONECTL_") }
        #expect(throws: AgentError.self) { try render(template: fullTemplate, payload: "Bad'Name") }
        #expect(throws: AgentError.self) { try render(template: fullTemplate, version: "1.0") }
    }

    @Test func noncesAreFreshHex() {
        let a = LoaderBuilder.newNonce(), b = LoaderBuilder.newNonce()
        #expect(LoaderBuilder.isNonce(a) && LoaderBuilder.isNonce(b) && a != b)
        #expect(!LoaderBuilder.isNonce("0123"))
    }
}
