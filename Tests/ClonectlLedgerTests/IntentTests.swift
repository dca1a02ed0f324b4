import Testing
import Foundation
@testable import ClonectlLedger

/// SendCommand intents: written before the command goes out, closed with the command in one transaction.
@Suite struct IntentTests {
    func intent(_ nonce: String, step: String = "prep", ids: [String] = ["i-1", "i-2"]) -> CommandIntent {
        CommandIntent(nonce: nonce, runId: nil, step: step, payload: "work-user", version: "1.0.0",
                      payloadSha256: String(repeating: "a", count: 64), instanceIds: ids, parametersJSON: "{}",
                      comment: "clonectl prep work-user@1.0.0 " + CommandIntent.marker(nonce: nonce),
                      createdAt: "2026-12-02T10:00:00.000Z")
    }

    @Test func anIntentIsPendingUntilItsCommandIsKnownThenRecordedWithIt() throws {
        let ledger = try Ledger(path: tempLedgerPath())
        let nonce = String(repeating: "0123456789abcdef", count: 2)
        try ledger.recordIntent(intent(nonce))
        try ledger.markIntentAttempt(nonce: nonce, at: "2026-12-02T10:00:01.000Z")
        let pending = try ledger.pendingIntents(runId: nil, step: "prep")
        #expect(pending.map(\.nonce) == [nonce])
        #expect(pending.first?.attemptAt == "2026-12-02T10:00:01.000Z")
        #expect(pending.first?.instanceIds == ["i-1", "i-2"])
        #expect(try ledger.pendingIntents(runId: nil, step: "verify").isEmpty)

        let record = try #require(pending.first).record(commandId: "c-1")
        try ledger.completeIntent(nonce: nonce, command: record)
        try ledger.completeIntent(nonce: nonce, command: record) // a second adoption changes nothing
        #expect(try ledger.pendingIntents(runId: nil, step: "prep").isEmpty)
        let command = try ledger.command(id: "c-1")
        #expect(command.nonce == nonce && command.payloadSha256 == record.payloadSha256 && command.sentAt == "2026-12-02T10:00:00.000Z")
    }

    @Test func anAbandonedIntentIsNotLookedForAgain() throws {
        let ledger = try Ledger(path: tempLedgerPath())
        try ledger.recordIntent(intent("ab"))
        try ledger.abandonIntent(nonce: "ab")
        #expect(try ledger.pendingIntents(runId: nil, step: "prep").isEmpty)
    }

    @Test func theMarkerIsTheNoncesFirstSixteenCharacters() {
        #expect(CommandIntent.marker(nonce: "0123456789abcdef0123456789abcdef") == "#0123456789abcdef")
    }
}
