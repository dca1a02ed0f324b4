import Testing
import Foundation
@testable import ClonectlPlan

/// `documents: {mode, prefix}` (issue 14): inline by default; a wrong mode or an SSM-reserved prefix is a plan error.
@Suite struct PlanDocumentsTests {
    func load(_ extra: String) throws -> Plan {
        try PlanLoader.parse(PlanLoaderTests.minimal + "\n" + extra, file: "plan.yaml")
    }

    func messages(_ extra: String) -> [String] {
        do { _ = try load(extra); return [] } catch let e as PlanError { return e.issues.map { "\($0)" } } catch { return ["\(error)"] }
    }

    @Test func inlineByDefaultDocumentsWhenAsked() throws {
        #expect(try load("").documents == Plan.DocumentDelivery(mode: .inline, prefix: "clonectl-"))
        #expect(try load("documents: {mode: documents}").documents.mode == .documents)
        #expect(try load("documents: {mode: documents, prefix: ops.clonectl_}").documents.prefix == "ops.clonectl_")
    }

    @Test func aWrongModeOrPrefixSaysWhatToWrite() {
        #expect(messages("documents: {mode: document}").contains { $0.contains("use inline or documents") })
        #expect(messages("documents: {prefix: aws-clonectl-}").contains { $0.contains("reserves") })
        #expect(messages("documents: {prefix: 'a b'}").contains { $0.contains("not a document name prefix") })
        #expect(messages("documents: {mode: documents, hash: x}").count == 1)
    }
}
