import Foundation
import Testing
import TestSupport
@testable import ClonectlAgent

/// Parameters checked against a payload's param() block before anything is sent.
@Suite struct ParameterCheckTests {
    let store = try! PayloadStore(root: TestEnvironment.repoRoot.appendingPathComponent("ps-scripts"))

    func problems(_ payload: String, _ members: [(String, JSONValue)]) throws -> [String] {
        try ParameterCheck.problems(store: store, reference: payload, params: try .plain(members))
    }

    @Test func unknownNamesGetADidYouMean() throws {
        let found = try problems("hostname", [("NewNam", .string("APP02"))])
        #expect(found.contains { $0.contains("no parameter 'NewNam'") && $0.contains("did you mean NewName?") }, "\(found)")
        #expect(found.contains { $0.contains("needs NewName") }, "the mandatory one is missing too: \(found)")
        #expect(try problems("hostname", [("newname", .string("APP02"))]).isEmpty, "PowerShell names ignore case")
    }

    @Test func lengthPatternSetRangeAndType() throws {
        #expect(try problems("hostname", [("NewName", .string(String(repeating: "A", count: 27)))])
            .contains { $0.contains("has 27 characters; it takes 1 to 15") })
        #expect(try problems("hostname", [("NewName", .string("APP_02"))]).contains { $0.contains("does not match") })
        #expect(try problems("hostname", [("NewName", .string("12345"))]).contains { $0.contains("does not match") }, "digits only")
        let set = try problems("firewall-off", [("Profiles", .array([.string("Domian")]))])
        #expect(set.contains { $0.contains("'Domian' is not one of Domain, Private, Public") && $0.contains("did you mean Domain?") }, "\(set)")
        #expect(try problems("firewall-off", [("Profiles", .array([.string("public")]))]).isEmpty, "ValidateSet ignores case")
        #expect(try problems("firewall-off", [("Profiles", .array([]))]).contains { $0.contains("takes 1 to 3 values") })
        #expect(try problems("sysprep-logs", [("Lines", .int(500))]).contains { $0.contains("out of range") })
        #expect(try problems("sysprep", [("Shutdown", .string("yes"))]).contains { $0.contains("takes true or false") })
        #expect(try problems("sysprep", [("Shutdown", .bool(false))]).isEmpty)
        #expect(try problems("hostname", [("NewName", .array([.string("A")]))]).contains { $0.contains("not a list") })
        #expect(try problems("verify", []).isEmpty, "nothing mandatory")
        #expect(try problems("preflight", [("X", .int(1))]).contains { $0.contains("it takes none") })
    }

    @Test func perInstanceParametersAreCheckedPerInstance() throws {
        let params = try LoaderParams.perInstance(common: [], byInstance: [
            ("i-0123456789abcdef0", [("NewName", .string("APP02"))]),
            ("i-0123456789abcdef1", [("NewName", .string("THIS-NAME-IS-FAR-TOO-LONG"))]),
        ])
        let found = try ParameterCheck.problems(store: store, reference: "hostname", params: params)
        #expect(found.count == 2, "\(found)")
        #expect(found.allSatisfy { $0.hasPrefix("i-0123456789abcdef1: ") })
    }
}
