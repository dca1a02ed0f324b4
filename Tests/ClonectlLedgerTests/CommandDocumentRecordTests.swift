import Testing
import Foundation
@testable import ClonectlLedger

/// Migration 5: how each command reached the instance, keyed by its nonce.
@Suite struct CommandDocumentRecordTests {
    @Test func theModeDocumentArnVersionAndHashAreKeptPerCommand() throws {
        let ledger = try Ledger(path: tempLedgerPath())
        #expect(Ledger.schemaVersion >= 5)
        let documents = CommandDocumentRecord(
            nonce: String(repeating: "a", count: 32), mode: "documents", documentName: "clonectl-prep",
            documentARN: "arn:aws:ssm:eu-west-1:123456789012:document/clonectl-prep", documentVersion: "2",
            documentHash: String(repeating: "0", count: 64))
        let inline = CommandDocumentRecord(nonce: String(repeating: "b", count: 32), mode: "inline",
                                           documentName: "AWS-RunPowerShellScript")
        try ledger.recordCommandDocument(documents)
        try ledger.recordCommandDocument(inline)
        try ledger.recordCommandDocument(inline)  // written once per nonce
        #expect(try ledger.commandDocument(nonce: documents.nonce) == documents)
        #expect(try ledger.commandDocument(nonce: inline.nonce) == inline)
        #expect(try ledger.commandDocument(nonce: String(repeating: "c", count: 32)) == nil)
    }
}
