import Testing
import Foundation
import ClonectlLedger
import ClonectlReport
import ClonectlWorkflow

/// The report from a ledger written by hand (fast, no AWS): roles, failures first, waits, reboots, downtime, escaping.
@Suite struct ReportModelTests {
    @Test func placeholder() throws {}
}
