import ClonectlCrypto
import Foundation
@testable import ClonectlAgent

/// The shared envelope vectors (Tests/Fixtures/envelope-vectors.json), built from the Swift writer.
///
/// The file is generated from these cases and a test checks it is current: run
/// `CLONECTL_WRITE_VECTORS=1 swift test --filter ClonectlAgentTests.EnvelopeVectorTests` after changing them.
enum EnvelopeVectorCases {
    static let nonce = "0123456789abcdef0123456789abcdef"
    static let payloadSha = "5c0d406c7539baf46706c969fa7c54c3a15b00a48c2b7194a97da692a94677b7"
    static let crlf = "\r\n"

    struct Case {
        let name: String
        let description: String
        let output: String
        let expectedVerdict: Verdict
        var expectedJsonSha256: String? = nil
        var expectedStatus: String? = nil
        var source = "GetCommandInvocation"
    }

    static func envelope(status: Envelope.Status = .changed, nonce: String = nonce, payloadSha: String = payloadSha,
                         facts: JSONValue = .object([("computerName", .string("APP02"))]),
                         changed: [JSONValue]? = nil, errors: [String] = [], logTail: [String]? = nil) -> Envelope {
        Envelope(payload: "hostname", version: "1.0.0", payloadSha256: payloadSha, nonce: nonce,
                 instanceId: "i-0abc1234def567890", status: status,
                 changed: changed ?? [.object([("item", .string("computerName")), ("from", .string("WIN-SRC01")),
                                               ("to", .string("APP02"))])],
                 facts: facts, errors: errors,
                 logTail: logTail ?? ["2026-11-28T04:00:01Z rename WIN-SRC01 -> APP02"],
                 startedAt: "2026-11-28T04:00:00Z", finishedAt: "2026-11-28T04:00:02Z")
    }

    static func sha(_ line: String) -> String { Hex.encode(Crypto.sha256(line)) }
    static func line(_ e: Envelope) -> String { CanonicalJSON.encode(e.json) }

    static var all: [Case] {
        let plain = envelope()
        let plainLine = line(plain)
        let long = envelope(status: .ok, changed: [],
                            logTail: (1...40).map { "2026-11-28T04:00:\(String(format: "%02d", $0 % 60))Z step \($0): checked C:\\Windows\\Panther\\setupact.log, nothing to do" })
        let longText = long.render()
        var cases: [Case] = [
            Case(name: "verified-crlf", description: "A typical envelope as Windows prints it: CRLF line ends, trailing CRLF.",
                 output: plain.render(), expectedVerdict: .verified, expectedJsonSha256: sha(plainLine), expectedStatus: "changed"),
            Case(name: "verified-lf-no-final-newline", description: "LF line ends and no line end after END: both are accepted.",
                 output: plain.render(lineEnding: "\n").dropLastNewline, expectedVerdict: .verified,
                 expectedJsonSha256: sha(plainLine), expectedStatus: "changed"),
            Case(name: "verified-text-outside-markers",
                 description: "Text before BEGIN and after END is ignored (it should not exist, but must not break the verdict).",
                 output: "WARNING: something on stdout\r\n" + plain.render() + "trailing noise\r\n",
                 expectedVerdict: .verified, expectedJsonSha256: sha(plainLine), expectedStatus: "changed"),
            Case(name: "verified-utf8-bom-before-begin", description: "A UTF-8 byte order mark before the BEGIN line is ignored.",
                 output: "\u{FEFF}" + plain.render(), expectedVerdict: .verified, expectedJsonSha256: sha(plainLine),
                 expectedStatus: "changed"),
        ]
        let intl = envelope(status: .ok, facts: .object([
            ("timeZone", .string("Tōkyō Standard Time")), ("owner", .string("営業部")),
            ("emoji", .string("ok 👍")), ("controls", .string("a\u{01}b\u{7F}c\u{1F}")),
            ("html", .string("</script> & 'x' <y>/z")),
        ]), changed: [])
        cases.append(Case(name: "verified-non-ascii-escaped",
                          description: "Characters above U+007E (and DEL, and control characters) are written as \\uXXXX in lower-case hex over UTF-16 units (the emoji is a surrogate pair); / < > ' & are not escaped. The JSON line is pure ASCII.",
                          output: intl.render(), expectedVerdict: .verified, expectedJsonSha256: sha(line(intl)), expectedStatus: "ok"))
        let quoted = envelope(status: .failed, changed: [],
                              errors: ["Rename-Computer failed: \"Access is denied\" (0x80070005)"],
                              logTail: ["path C:\\ProgramData\\clonectl\\logs\\run.log", "said \"no\"\tthen\\stopped",
                                        "line\nbreak and\rreturn", "form\u{0C}feed back\u{08}space"])
        cases.append(Case(name: "verified-failed-log-tail-quotes-backslashes",
                          description: "A failed run; logTail and errors hold quotes, backslashes, tab, newline, CR, form feed and backspace, written as the short escapes.",
                          output: quoted.render(), expectedVerdict: .verified, expectedJsonSha256: sha(line(quoted)),
                          expectedStatus: "failed"))
        let first = envelope(status: .rebootPending, logTail: ["renamed, reboot pending"])
        let second = envelope(status: .ok, changed: [], logTail: ["name is APP02: nothing to do"])
        cases.append(Case(name: "verified-last-envelope-wins-after-reboot",
                          description: "After exit 3010 the SSM agent re-runs the command; if the output holds both runs, the LAST envelope is judged.",
                          output: first.render() + second.render(), expectedVerdict: .verified,
                          expectedJsonSha256: sha(line(second)), expectedStatus: "ok"))
        cases.append(Case(name: "verified-over-2500-from-get-command-invocation",
                          description: "An envelope over 2,500 characters (\(longText.utf8.count)): whole in GetCommandInvocation's output (24,000), so verified.",
                          output: longText, expectedVerdict: .verified, expectedJsonSha256: sha(line(long)), expectedStatus: "ok"))
        cases.append(Case(name: "truncated-same-envelope-cut-at-2500-by-list-command-invocations",
                          description: "The previous vector's output as ListCommandInvocations returns it: the first 2,500 characters. The END line is lost, so truncated; fetch GetCommandInvocation.",
                          output: String(String.UnicodeScalarView(longText.unicodeScalars.prefix(2500))), expectedVerdict: .truncated, source: "ListCommandInvocations"))
        let full = plain.render()
        cases.append(Case(name: "truncated-inside-end-line", description: "Cut in the middle of the END line's hash: not an END line, so truncated.",
                          output: String(String.UnicodeScalarView(full.unicodeScalars.dropLast(20))), expectedVerdict: .truncated))
        cases.append(Case(name: "missing-empty-output", description: "No output at all.", output: "", expectedVerdict: .missing))
        cases.append(Case(name: "missing-loader-refused",
                          description: "The loader refused (exit 2) and printed no envelope.",
                          output: "clonectl loader: payload SHA-256 mismatch, refusing to run\r\n", expectedVerdict: .missing))
        let edited = plainLine.replacingOccurrences(of: "\"changed\",\"changed\"", with: "\"ok\",\"changed\"")
        cases.append(Case(name: "tampered-json-edited-after-hashing",
                          description: "The status was edited after the hash was computed: the END line's hash no longer matches. expectedJsonSha256 is the hash of the line as received.",
                          output: Envelope.beginLine + crlf + edited + crlf + Envelope.endPrefix + sha(plainLine) + Envelope.endSuffix + crlf,
                          expectedVerdict: .tampered, expectedJsonSha256: sha(edited)))
        let broken = "{\"v\":1,\"payload\":\"hostname\""
        cases.append(Case(name: "tampered-hash-matches-but-not-json", description: "The hash matches but the line is not complete JSON.",
                          output: Envelope.wrap(jsonLine: broken), expectedVerdict: .tampered, expectedJsonSha256: sha(broken)))
        let v2 = plainLine.replacingOccurrences(of: "{\"v\":1,", with: "{\"v\":2,")
        cases.append(Case(name: "tampered-wrong-format-version", description: "The hash matches but v is 2: not this format.",
                          output: Envelope.wrap(jsonLine: v2), expectedVerdict: .tampered, expectedJsonSha256: sha(v2)))
        let split = plainLine.replacingOccurrences(of: ",\"facts\"", with: ",\r\n\"facts\"")
        cases.append(Case(name: "tampered-json-over-two-lines", description: "The JSON must be one line; two lines between BEGIN and END are refused.",
                          output: Envelope.beginLine + crlf + split + crlf + Envelope.endPrefix + sha(plainLine) + Envelope.endSuffix + crlf,
                          expectedVerdict: .tampered))
        let old = envelope(nonce: "fedcba9876543210fedcba9876543210")
        cases.append(Case(name: "stale-other-nonce", description: "A well-formed envelope from another command (its nonce is not this command's).",
                          output: old.render(), expectedVerdict: .stale, expectedJsonSha256: sha(line(old)), expectedStatus: "changed"))
        let otherSha = envelope(payloadSha: String(repeating: "ab", count: 32))
        cases.append(Case(name: "stale-other-payload-sha256", description: "Right nonce, but a different payload hash than this command sent.",
                          output: otherSha.render(), expectedVerdict: .stale, expectedJsonSha256: sha(line(otherSha)),
                          expectedStatus: "changed"))
        return cases
    }

    /// Writer cases: a string in, its JSON encoding out (for the other writers to check themselves against).
    static let writerStrings: [String] = [
        "plain ASCII", "quote \" backslash \\ slash / <tag> & 'single'", "\u{08}\u{0C}\n\r\t", "\u{00}\u{01}\u{1F}\u{7F}",
        "é ü ß", "東京", "👍 (U+1F44D)", "\u{2028}\u{2029}",
    ]

    /// The whole vectors file, deterministic, ASCII, one vector per line for readable diffs.
    static func fileText() -> String {
        var vectors: [JSONValue] = []
        for c in all {
            var members: [(String, JSONValue)] = [
                ("name", .string(c.name)), ("description", .string(c.description)), ("source", .string(c.source)),
                ("output", .string(c.output)), ("nonce", .string(nonce)), ("payloadSha256", .string(payloadSha)),
                ("expectedVerdict", .string(c.expectedVerdict.rawValue)),
            ]
            if let s = c.expectedJsonSha256 { members.append(("expectedJsonSha256", .string(s))) }
            if let s = c.expectedStatus { members.append(("expectedStatus", .string(s))) }
            vectors.append(.object(members))
        }
        let writer = writerStrings.map { JSONValue.object([("input", .string($0)), ("expected", .string(CanonicalJSON.encode(.string($0))))]) }
        let about = "Shared result-envelope vectors (agent-docs/envelope.md, format v1), generated by the Swift writer (Tests/ClonectlAgentTests/EnvelopeVectorCases.swift). For each vector: judge 'output' given 'nonce' and 'payloadSha256' and expect 'expectedVerdict'; when present, 'expectedJsonSha256' is the SHA-256 of the JSON line's bytes as received and 'expectedStatus' its status. 'source' says which SSM API the output stands for. A writer must reproduce each verified vector's JSON line byte for byte from its parsed members, and each 'writerStrings' input as 'expected'."
        var text = "{\"about\":" + CanonicalJSON.encode(.string(about)) + ",\n\"formatVersion\":1,\n\"vectors\":[\n"
        text += vectors.map(CanonicalJSON.encode).joined(separator: ",\n")
        text += "\n],\n\"writerStrings\":[\n" + writer.map(CanonicalJSON.encode).joined(separator: ",\n") + "\n]}\n"
        return text
    }
}

extension String {
    var dropLastNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}
