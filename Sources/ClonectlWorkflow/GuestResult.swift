import ClonectlAgent
import Foundation
import ClonectlLedger

/// What one guest step did on one instance, the way a recap counts it (Ansible's ok/changed/failed): `ok` (nothing
/// to change), `changed`, `failed`, or `running` while no verdict is in; and how many times the step rebooted the
/// instance (exit 3010).
///
/// A payload that exits 3010 is run again by the SSM agent after the reboot, and that second run finds nothing left
/// to do: its envelope says `ok`. The first run's `reboot-pending` envelope (with what it changed) is the truth about
/// the step. When the recorded output holds it before the final envelope (same nonce, verified), the step counts as
/// `changed` with one reboot per such envelope; the post-reboot `ok` does not replace it.
public struct GuestResult: Sendable, Equatable {
    public var result: String
    public var reboots: Int

    public init(result: String, reboots: Int) {
        self.result = result
        self.reboots = reboots
    }

    public static func of(_ invocation: InvocationRecord, command: CommandRecord) -> GuestResult {
        guard let verdict = invocation.verdict else { return GuestResult(result: "running", reboots: 0) }
        let final = invocation.resultJSON.flatMap { try? JSONParser.parse($0) }?["status"]?.stringValue
        guard invocation.status == "Success", verdict == Verdict.verified.rawValue, final == "ok" || final == "changed" else {
            return GuestResult(result: "failed", reboots: 0)
        }
        let before = rebootsBefore(output: invocation.output ?? "", nonce: command.nonce, payloadSha256: command.payloadSha256)
        let changed = final == "changed" || before.contains { !$0.changed.isEmpty || $0.status == .rebootPending }
        return GuestResult(result: changed ? "changed" : "ok", reboots: before.count)
    }

    /// The verified `reboot-pending` envelopes of this command that precede the final one in `output`, oldest first.
    static func rebootsBefore(output: String, nonce: String, payloadSha256: String) -> [Envelope] {
        var found: [Envelope] = []
        var rest = Substring(output)
        // Drop the final envelope, then judge what is left, envelope by envelope from the end.
        guard let last = rest.range(of: Envelope.beginLine, options: .backwards) else { return [] }
        rest = rest[..<last.lowerBound]
        while let begin = rest.range(of: Envelope.beginLine, options: .backwards) {
            let check = EnvelopeVerifier.verify(output: String(rest[begin.lowerBound...]), nonce: nonce,
                                                payloadSha256: payloadSha256)
            if check.verdict == .verified, let envelope = check.envelope, envelope.status == .rebootPending {
                found.insert(envelope, at: 0)
            }
            rest = rest[..<begin.lowerBound]
        }
        return found
    }
}
