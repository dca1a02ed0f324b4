import ClonectlCrypto

/// The five verdicts of envelope.md, "Verdicts (controller side)".
public enum Verdict: String, Sendable, CaseIterable {
    case verified, truncated, tampered, stale, missing
}

public struct EnvelopeVerification: Sendable {
    public let verdict: Verdict
    /// Why, in one line, for logs and the ledger.
    public let reason: String
    /// The decoded envelope when `verified`; also when `stale`, to show which old run it came from (never trust it).
    public let envelope: Envelope?
    /// SHA-256 of the JSON line bytes, when BEGIN and END were found.
    public let jsonSha256: String?
    /// What the runs before a 3010 reboot changed, from their own verified envelopes of this command (same nonce and
    /// payload hash) earlier in the same output: the agent appends every run's output, and the final run of a
    /// payload that rebooted usually finds nothing left to change (hostname: the re-run sees the new name, ok).
    public var earlierChanged: [JSONValue] = []

    /// The command's result as a whole: the final envelope, with the earlier runs' changes before its own and
    /// `ok` made `changed` when they changed something. Equal to `envelope` when nothing rebooted.
    public var runEnvelope: Envelope? {
        guard var e = envelope, !earlierChanged.isEmpty else { return envelope }
        e.changed = earlierChanged + e.changed
        if e.status == .ok { e.status = .changed }
        return e
    }
}

/// Finds the envelope in a command's output and judges it. Works on the UTF-8 bytes so the hash is over
/// exactly what the payload printed; a `\r` before `\n` is dropped; text outside the markers is ignored.
public enum EnvelopeVerifier {
    /// `instanceId`: the instance the invocation ran on. An envelope naming another instance is `tampered`: a fleet
    /// command shares one nonce, so only this check stops one clone's output from vouching for another's.
    public static func verify(output: String, nonce: String, payloadSha256: String,
                              instanceId: String? = nil) -> EnvelopeVerification {
        let lines = splitLines(Array(output.utf8))
        let begin = Array(Envelope.beginLine.utf8)
        // The last BEGIN: after a 3010 reboot the output may hold the first run's envelope before the final one.
        guard let beginIndex = lines.lastIndex(where: { stripBOM($0) == begin[...] }) else {
            return result(.missing, "no BEGIN line in the output (the loader refused, or the payload printed nothing)")
        }
        guard let endIndex = lines[(beginIndex + 1)...].firstIndex(where: { endHash($0) != nil }) else {
            return result(.truncated, "BEGIN without END: the output was cut (SSM keeps the head) or the payload died mid-write")
        }
        let claimed = endHash(lines[endIndex])!
        guard endIndex == beginIndex + 2 else {
            return result(.tampered, "expected exactly one JSON line between BEGIN and END, found \(endIndex - beginIndex - 1)")
        }
        let jsonBytes = Array(lines[beginIndex + 1])
        let actual = Hex.encode(Crypto.sha256(jsonBytes))
        guard actual == claimed else {
            return result(.tampered, "SHA-256 of the JSON line is \(actual), the END line says \(claimed)", sha: actual)
        }
        let envelope: Envelope
        do {
            envelope = try Envelope(json: try JSONParser.parse(jsonBytes))
        } catch {
            return result(.tampered, "the hash matches but the envelope is unreadable: \(error.message)", sha: actual)
        }
        if envelope.nonce != nonce {
            return result(.stale, "nonce \(envelope.nonce) is not this command's \(nonce): an old output", envelope, actual)
        }
        if envelope.payloadSha256 != payloadSha256 {
            return result(.stale, "payloadSha256 \(envelope.payloadSha256) is not the \(payloadSha256) this command sent",
                          envelope, actual)
        }
        if let instanceId, envelope.instanceId != instanceId {
            return result(.tampered, "the envelope names instance '\(envelope.instanceId.prefix(40))', but the command ran on \(instanceId)",
                          sha: actual)
        }
        var verified = result(.verified, "\(envelope.payload)@\(envelope.version) on \(envelope.instanceId): \(envelope.status.rawValue)",
                              envelope, actual)
        verified.earlierChanged = earlierChanges(lines[..<beginIndex], nonce: nonce, payloadSha256: payloadSha256,
                                                 instanceId: envelope.instanceId)
        return verified
    }

    /// The `changed` items of every earlier envelope in `lines` that is whole, hashes right and belongs to this
    /// command (its nonce, payload hash and instance), oldest first. Anything else before the final envelope is ignored.
    static func earlierChanges(_ lines: ArraySlice<ArraySlice<UInt8>>, nonce: String, payloadSha256: String,
                               instanceId: String) -> [JSONValue] {
        let begin = Array(Envelope.beginLine.utf8)
        var out: [JSONValue] = []
        var i = lines.startIndex
        while i < lines.endIndex {
            defer { i += 1 }
            guard stripBOM(lines[i]) == begin[...], i + 2 < lines.endIndex, let claimed = endHash(lines[i + 2]) else { continue }
            let json = Array(lines[i + 1])
            guard Hex.encode(Crypto.sha256(json)) == claimed,
                  let parsed = try? JSONParser.parse(json), let e = try? Envelope(json: parsed),
                  e.nonce == nonce, e.payloadSha256 == payloadSha256, e.instanceId == instanceId else { continue }
            out += e.changed
        }
        return out
    }

    static func result(_ verdict: Verdict, _ reason: String, _ envelope: Envelope? = nil,
                       _ sha: String? = nil) -> EnvelopeVerification {
        EnvelopeVerification(verdict: verdict, reason: reason, envelope: envelope, jsonSha256: sha)
    }

    static func result(_ verdict: Verdict, _ reason: String, sha: String) -> EnvelopeVerification {
        result(verdict, reason, nil, sha)
    }

    /// Lines without their `\n` and without one `\r` before it.
    static func splitLines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        for (i, b) in bytes.enumerated() where b == 0x0A {
            lines.append(dropCR(bytes[start..<i]))
            start = i + 1
        }
        if start < bytes.count { lines.append(dropCR(bytes[start...])) }
        return lines
    }

    static func dropCR(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        line.last == 0x0D ? line.dropLast() : line
    }

    /// A UTF-8 byte order mark may precede the first line a Windows process prints.
    static func stripBOM(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        line.starts(with: [0xEF, 0xBB, 0xBF]) ? line.dropFirst(3) : line
    }

    /// The 64 lower-case hex digits of an END line; nil for any other line (including a cut-off END line).
    static func endHash(_ line: ArraySlice<UInt8>) -> String? {
        let prefix = Array(Envelope.endPrefix.utf8), suffix = Array(Envelope.endSuffix.utf8)
        guard line.count == prefix.count + 64 + suffix.count, line.starts(with: prefix), line.reversed().starts(with: suffix.reversed())
        else { return nil }
        let hex = line.dropFirst(prefix.count).prefix(64)
        guard hex.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
        return String(decoding: hex, as: UTF8.self)
    }
}

/// Run Command's output limits (DOMAIN.md): truncation keeps the head, so the END line goes first.
public enum OutputLimits {
    /// ListCommandInvocations with Details: the plugin output, stdout and stderr together.
    public static let listCommandInvocations = 2_500
    /// GetCommandInvocation: standard output.
    public static let getCommandInvocation = 24_000
    /// What the SSM Agent puts where it cut a plugin's Details output (amazon-ssm-agent, iohandler).
    public static let detailsCutMarkers = ["\n---Output truncated---", "\n---Error truncated----"]

    /// True when `output` may have been cut at `limit`. The SSM Agent cuts in UTF-8 bytes (Go strings), not
    /// characters, and marks the cut: a Details output of non-ASCII text is cut with far fewer than 2,500
    /// characters. Counted in bytes, scalars and UTF-16 units alike, and any cut marker, erring towards yes: a
    /// needless fetch costs one call, a miss a step.
    public static func mightBeTruncated(_ output: String, limit: Int) -> Bool {
        output.utf8.count >= limit || output.unicodeScalars.count >= limit || output.utf16.count >= limit
            || detailsCutMarkers.contains { output.contains($0) }
    }

    /// Whether a verdict from ListCommandInvocations' output should be re-judged on GetCommandInvocation's
    /// (fuller) output: the envelope was not found whole, and the output was long enough to have been cut.
    public static func shouldFetchFullOutput(listOutput: String, verdict: Verdict) -> Bool {
        (verdict == .truncated || verdict == .missing) && mightBeTruncated(listOutput, limit: listCommandInvocations)
    }

    /// Whether GetCommandInvocation's output was itself cut (24,000 bytes, "--output truncated--") before the
    /// envelope was whole: then only the copy the agent uploaded to S3 holds it.
    public static func shouldReadFromS3(apiOutput: String, verdict: Verdict) -> Bool {
        (verdict == .truncated || verdict == .missing)
            && (mightBeTruncated(apiOutput, limit: getCommandInvocation) || apiOutput.hasSuffix(stdoutCutMarker))
    }

    /// What the agent puts at the end of a stdout it cut to 24,000 bytes (pluginutil.StringPrefix).
    public static let stdoutCutMarker = "--output truncated--"
}
