import Testing
import Foundation
import Synchronization
import AWSCore
import AWSCredentials
import AWSHTTP
import AWSRetry
import ClonectlAgent
import ClonectlCrypto
import TestSupport
@testable import ClonectlWorkflow

/// `documents publish` when CreateDocument / UpdateDocument lose their answer after SSM acted, when an earlier
/// publish's call lands late, and when the call was never carried out: the version is found by its VersionName and
/// adopted ("reused"), never created twice, never an error for the operator. Against a small stateful stand-in for
/// SSM's document store that answers as SSM does (DocumentAlreadyExists, DuplicateDocumentVersionName,
/// DuplicateDocumentContent) and can lose an answer after acting or drop a call before acting.
@Suite struct DocumentsPublishTests {
    /// SSM's document calls over JSON 1.1, with their state; `lose` / `drop` name operations whose next call fails
    /// at the transport: after it was carried out (lost answer), or before (dropped).
    final class FakeDocumentStore: HTTPTransport, Sendable {
        struct Version { var number: Int; var versionName: String; var content: String }
        struct State {
            var documents: [String: [Version]] = [:]
            var lose: [String] = []
            var drop: [String] = []
            var calls: [String] = []
        }
        let state = Mutex(State())

        var calls: [String] { state.withLock { $0.calls } }
        func versions(_ name: String) -> [Version] { state.withLock { $0.documents[name] ?? [] } }

        static func sha(_ s: String) -> String { Hex.encode(Crypto.sha256(Array(s.utf8))) }

        func execute(_ request: HTTPRequest, options: HTTPRequestOptions) async throws -> HTTPResponse {
            let target = request.headers.first { $0.name.lowercased() == "x-amz-target" }?.value ?? ""
            let op = String(target.split(separator: ".").last ?? "")
            let body = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] ?? [:]
            let (status, data, fate): (Int, Data, String?) = state.withLock { s in
                s.calls.append(op)
                if let i = s.drop.firstIndex(of: op) { s.drop.remove(at: i); return (0, Data(), "drop") }
                let answer = Self.serve(&s, op, body)
                let data = (try? JSONSerialization.data(withJSONObject: answer.1)) ?? Data()
                if let i = s.lose.firstIndex(of: op) { s.lose.remove(at: i); return (answer.0, data, "lose") }
                return (answer.0, data, nil)
            }
            if fate != nil {
                throw HTTPTransportError(kind: .emptyReply, message: "scripted: connection closed without an answer", url: request.url)
            }
            return HTTPResponse(status: status, headers: [HTTPHeader("Content-Type", "application/x-amz-json-1.1")], body: Array(data))
        }

        static func error(_ code: String, _ message: String) -> (Int, Any) { (400, ["__type": code, "message": message]) }

        static func describe(_ name: String, _ v: Version, latest: Int) -> [String: Any] {
            ["Name": name, "DocumentVersion": String(v.number), "VersionName": v.versionName, "Hash": sha(v.content),
             "HashType": "Sha256", "Owner": "123456789012", "Status": "Active", "DocumentType": "Command",
             "LatestVersion": String(latest), "DefaultVersion": "1"]
        }

        static func serve(_ s: inout State, _ op: String, _ body: [String: Any]) -> (Int, Any) {
            let name = body["Name"] as? String ?? ""
            let versions = s.documents[name] ?? []
            switch op {
            case "DescribeDocument", "GetDocument":
                guard !versions.isEmpty else { return error("InvalidDocument", "The specified document does not exist.") }
                let wanted = body["DocumentVersion"] as? String
                let named = body["VersionName"] as? String
                let one: Version?
                if let named { one = versions.first { $0.versionName == named } }
                else if wanted == "$LATEST" { one = versions.last }
                else if let wanted { one = versions.first { String($0.number) == wanted } }
                else { one = versions.first } // the default version stays 1 here
                guard let v = one else { return error("InvalidDocumentVersion", "The document version is not valid or does not exist.") }
                if op == "GetDocument" {
                    return (200, ["Name": name, "DocumentVersion": String(v.number), "VersionName": v.versionName, "Content": v.content])
                }
                return (200, ["Document": describe(name, v, latest: versions.count)])
            case "CreateDocument":
                guard versions.isEmpty else { return error("DocumentAlreadyExists", "The specified document already exists.") }
                let v = Version(number: 1, versionName: body["VersionName"] as? String ?? "", content: body["Content"] as? String ?? "")
                s.documents[name] = [v]
                return (200, ["DocumentDescription": describe(name, v, latest: 1)])
            case "UpdateDocument":
                guard !versions.isEmpty else { return error("InvalidDocument", "The specified document does not exist.") }
                let v = Version(number: versions.count + 1, versionName: body["VersionName"] as? String ?? "",
                                content: body["Content"] as? String ?? "")
                if versions.contains(where: { $0.versionName == v.versionName }) {
                    return error("DuplicateDocumentVersionName", "The specified version name is a duplicate.")
                }
                if versions.contains(where: { $0.content == v.content }) {
                    return error("DuplicateDocumentContent", "The content of the association document matches another document.")
                }
                s.documents[name] = versions + [v]
                return (200, ["DocumentDescription": describe(name, v, latest: v.number)])
            default:
                return error("UnknownOperationException", op)
            }
        }
    }

    struct NoSleep: RetryClock {
        func now() -> Double { 0 }
        func sleep(for duration: Duration) async throws {}
    }

    static func documents(_ fake: any HTTPTransport, prefix: String = "t-") throws -> Documents {
        let client = AWSClient(
            service: .ssm, endpoint: try AWSEndpoint("https://ssm.us-east-1.amazonaws.com"), region: "us-east-1",
            credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret", source: "test")),
            transport: fake, retry: try RetryStrategy(configuration: RetryConfiguration(), clock: NoSleep()))
        let store = try PayloadStore(root: TestEnvironment.repoRoot.appendingPathComponent("Tests/Fixtures/ps-scripts-fixture"))
        return Documents(ssm: SSMClient(client: client), store: store, prefix: prefix)
    }

    /// Every payload's versions in SSM: one per VersionName, with the content the manifest builds, none twice.
    static func expectOneVersionEach(_ fake: FakeDocumentStore, _ docs: Documents, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for doc in try docs.expected() {
            let held = fake.versions(doc.name).filter { $0.versionName == doc.versionName }
            #expect(held.count == 1 && held.first?.content == doc.content, "\(doc.name) \(doc.versionName)", sourceLocation: sourceLocation)
        }
        let expectedCount = Dictionary(grouping: try docs.expected(), by: \.name).mapValues(\.count)
        for (name, count) in expectedCount {
            #expect(fake.versions(name).count == count, "\(name): \(fake.versions(name).map(\.versionName))", sourceLocation: sourceLocation)
        }
    }

    /// A payload with more than one released version: its first version is a CreateDocument, the next an UpdateDocument.
    static func twoVersions(_ docs: Documents) throws -> (first: CommandDocument, second: CommandDocument) {
        let all = try docs.expected()
        let name = try #require(Dictionary(grouping: all, by: \.name).filter { $0.value.count > 1 }.keys.sorted().first)
        let mine = all.filter { $0.name == name }
        return (mine[0], mine[1])
    }

    @Test func aLostCreateDocumentAnswerIsAdoptedNotSentTwice() async throws {
        let fake = FakeDocumentStore()
        let docs = try Self.documents(fake)
        fake.state.withLock { $0.lose = ["CreateDocument"] }
        let outcomes = try await docs.publish()
        let reused = outcomes.filter { $0.action == .reused }
        #expect(reused.count == 1 && reused.first?.documentVersion == "1", "\(outcomes.map { "\($0.name) \($0.action)" })")
        // The one whose answer was lost was sent once: CreateDocument calls = documents, not one more.
        let names = Set(try docs.expected().map(\.name))
        #expect(fake.calls.filter { $0 == "CreateDocument" }.count == names.count, "\(fake.calls)")
        try Self.expectOneVersionEach(fake, docs)
        // A second publish finds everything current.
        #expect(try await docs.publish().allSatisfy { $0.action == .unchanged })
    }

    @Test func aLostUpdateDocumentAnswerIsAdoptedNotSentTwice() async throws {
        let fake = FakeDocumentStore()
        let docs = try Self.documents(fake)
        let pair = try Self.twoVersions(docs)
        fake.state.withLock { $0.lose = ["UpdateDocument"] }
        let outcomes = try await docs.publish()
        let reused = try #require(outcomes.first { $0.action == .reused }, "\(outcomes)")
        #expect(reused.name == pair.second.name && reused.versionName == pair.second.versionName && reused.documentVersion == "2")
        #expect(reused.sha256 == pair.second.sha256)
        let updates = Dictionary(grouping: try docs.expected(), by: \.name).values.map { $0.count - 1 }.reduce(0, +)
        #expect(fake.calls.filter { $0 == "UpdateDocument" }.count == updates, "\(fake.calls)")
        try Self.expectOneVersionEach(fake, docs)
    }

    /// A call dropped before SSM acted leaves nothing: it is sent once more, and that one is the version.
    @Test func aDroppedCreateDocumentIsSentOnceMore() async throws {
        let fake = FakeDocumentStore()
        let docs = try Self.documents(fake)
        fake.state.withLock { $0.drop = ["CreateDocument"] }
        let outcomes = try await docs.publish()
        #expect(!outcomes.contains { $0.action == .reused } && outcomes.contains { $0.action == .created })
        let names = Set(try docs.expected().map(\.name))
        #expect(fake.calls.filter { $0 == "CreateDocument" }.count == names.count + 1, "\(fake.calls)")
        try Self.expectOneVersionEach(fake, docs)
    }

    /// An earlier publish's call landed after this publish looked (a publish killed midway, its call in flight):
    /// the re-sent call meets DocumentAlreadyExists / DuplicateDocumentVersionName; the version is adopted.
    @Test func aVersionThatLandsBetweenTheLookAndTheCallIsAdopted() async throws {
        let fake = FakeDocumentStore()
        let docs = try Self.documents(fake)
        let pair = try Self.twoVersions(docs)
        let late = Interposed(fake: fake, landing: [Landing(pair.first), Landing(pair.second)])
        let outcomes = try await Self.documents(late).publish()
        let byVersion = Dictionary(uniqueKeysWithValues: outcomes.filter { $0.name == pair.first.name }.map { ($0.versionName, $0) })
        #expect(byVersion[pair.first.versionName]?.action == .reused, "DocumentAlreadyExists: \(outcomes)")
        #expect(byVersion[pair.second.versionName]?.action == .reused, "DuplicateDocumentVersionName: \(outcomes)")
        #expect(late.landed == 2)
        #expect(fake.calls.filter { $0 == "CreateDocument" || $0 == "UpdateDocument" }.count == Set(try docs.expected().map(\.name)).count
                + Dictionary(grouping: try docs.expected(), by: \.name).values.map { $0.count - 1 }.reduce(0, +),
                "each version's call went out once: \(fake.calls)")
        try Self.expectOneVersionEach(fake, docs)
    }

    /// A version that lands under the VersionName with other content is refused, not adopted.
    @Test func aDifferentVersionUnderTheNameIsRefusedNotAdopted() async throws {
        let fake = FakeDocumentStore()
        let docs = try Self.documents(fake)
        let pair = try Self.twoVersions(docs)
        let other = Landing(name: pair.first.name, versionName: pair.first.versionName,
                            content: #"{"schemaVersion":"2.2","description":"not clonectl's","mainSteps":[]}"#)
        let late = Interposed(fake: fake, landing: [other])
        await #expect(throws: Documents.PublishRefused.self) { _ = try await Self.documents(late).publish() }
        #expect(late.landed == 1)
        let named = fake.versions(pair.first.name).filter { $0.versionName == pair.first.versionName }
        #expect(named.count == 1 && named.first?.content == other.content, "no second version of that name was made")
    }

    /// A version another call puts into the store.
    struct Landing: Sendable {
        var name: String, versionName: String, content: String
        init(name: String, versionName: String, content: String) { self.name = name; self.versionName = versionName; self.content = content }
        init(_ doc: CommandDocument) { self.init(name: doc.name, versionName: doc.versionName, content: doc.content) }
    }

    /// Lets a late call land right after the publish asked whether the document exists (DescribeDocument by name
    /// only), that is between its look and its CreateDocument / UpdateDocument.
    final class Interposed: HTTPTransport, Sendable {
        let fake: FakeDocumentStore
        let pending: Mutex<(items: [Landing], landed: Int)>
        init(fake: FakeDocumentStore, landing: [Landing]) { self.fake = fake; pending = Mutex((landing, 0)) }
        var landed: Int { pending.withLock { $0.landed } }

        func execute(_ request: HTTPRequest, options: HTTPRequestOptions) async throws -> HTTPResponse {
            let response = try await fake.execute(request, options: options)
            let body = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] ?? [:]
            let target = request.headers.first { $0.name.lowercased() == "x-amz-target" }?.value ?? ""
            guard target.hasSuffix(".DescribeDocument"), body["VersionName"] == nil, body["DocumentVersion"] == nil else { return response }
            let land = pending.withLock { p -> Landing? in
                guard let i = p.items.firstIndex(where: { $0.name == body["Name"] as? String }) else { return nil }
                p.landed += 1
                return p.items.remove(at: i)
            }
            if let land {
                fake.state.withLock { s in
                    var versions = s.documents[land.name] ?? []
                    versions.append(.init(number: versions.count + 1, versionName: land.versionName, content: land.content))
                    s.documents[land.name] = versions
                }
            }
            return response
        }
    }
}
