import AWSCore
import ClonectlAgent
import ClonectlPlan
import Foundation

extension Plan {
    /// The plan's `documents:` as the guest runner's delivery.
    public var delivery: Delivery {
        documents.mode == .documents ? .documents(prefix: documents.prefix) : .inline
    }
}

/// How guest steps reach the instance (plan `documents.mode`, `step --mode`).
public enum Delivery: Sendable, Equatable {
    /// AWS-RunPowerShellScript with the whole loader in `commands` (needs SendCommand on that AWS document).
    case inline
    /// clonectl's own Command document for the payload version, pinned by DocumentVersion and DocumentHash.
    case documents(prefix: String)

    public var mode: String {
        switch self { case .inline: "inline"; case .documents: "documents" }
    }
}

/// The document version a command is sent with: what SendCommand pins and what the ledger records.
public struct DocumentPin: Sendable, Equatable {
    public var name: String
    public var documentVersion: String
    public var versionName: String
    /// The SHA-256 clonectl computed from the released bytes (sent as DocumentHash: SSM refuses the command
    /// unless the version it holds has this hash).
    public var sha256: String
    public var arn: String
}

/// One payload version's document as SSM holds it, compared with what the manifest builds.
public struct DocumentState: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// Published with exactly the content the manifest builds.
        case current
        /// Not published (the document or this VersionName is missing).
        case missing
        /// Published under this VersionName with other content: changed behind clonectl's back, or a payload
        /// changed without a new version.
        case changed
        /// A version SSM holds whose VersionName the manifest does not list.
        case unknown
    }
    public var name: String
    public var versionName: String
    public var status: Status
    public var documentVersion: String?
    public var expectedSha256: String?
    public var publishedSha256: String?
}

/// What `documents publish` did for one payload version.
public struct PublishOutcome: Sendable, Equatable {
    /// `reused`: this publish sent the version, its answer was lost (or another publish got there first), and SSM
    /// holds it with the same content; adopted, not sent twice.
    public enum Action: String, Sendable { case created, added, reused, unchanged }
    public var name: String
    public var versionName: String
    public var action: Action
    public var documentVersion: String
    public var sha256: String
}

public enum DocumentsError: Error, CustomStringConvertible, Sendable {
    /// A published version's content is not what the released payload builds.
    case changed(name: String, versionName: String, documentVersion: String, published: String, expected: String)
    /// SSM already holds this content under another VersionName (DuplicateDocumentContent).
    case contentElsewhere(name: String, versionName: String)
    case notPublished(name: String, versionName: String)

    public var description: String {
        switch self {
        case let .changed(name, versionName, documentVersion, published, expected):
            return "\(name) version \(documentVersion) (VersionName \(versionName)) has SHA-256 \(published), but payload \(versionName) builds \(expected): the document was changed behind clonectl's back, or a released payload changed without a new version. Released bytes never change: release the change as a new payload version (and publish it); if the document was altered, delete it and publish again"
        case let .contentElsewhere(name, versionName):
            return "SSM refused a new version \(versionName) of \(name) (DuplicateDocumentContent): another version of \(name) already holds exactly this content under another VersionName; `clonectl documents list` shows which. Delete that version or the document, then publish again"
        case let .notPublished(name, versionName):
            return "SSM has no version named \(versionName) of document \(name): run `clonectl documents publish` (with the publisher policy, controller/iam/) or use documents.mode inline"
        }
    }
}

/// Publishes, inspects and pins clonectl's Command documents. One document per payload, one document version per
/// payload version (VersionName = payload version).
public struct Documents: Sendable {
    let ssm: SSMClient
    let store: PayloadStore
    let prefix: String

    public init(ssm: SSMClient, store: PayloadStore, prefix: String = CommandDocument.defaultPrefix) {
        self.ssm = ssm
        self.store = store
        self.prefix = prefix
    }

    /// Every released payload version's document, built from the hash-checked bytes, by payload then version.
    public func expected() throws -> [CommandDocument] {
        try store.manifest.payloads
            .sorted { ($0.name, SemanticVersion($0.version)!) < ($1.name, SemanticVersion($1.version)!) }
            .map { try CommandDocument.build(store: store, entry: $0, prefix: prefix) }
    }

    /// Creates what is missing; reuses a version whose content SSM already holds (same hash); refuses a version
    /// name that holds other content. Every version is handled before the first refusal is thrown.
    public func publish(progress: (@Sendable (String) -> Void)? = nil) async throws -> [PublishOutcome] {
        var outcomes: [PublishOutcome] = []
        var refusals: [DocumentsError] = []
        for doc in try expected() {
            do {
                let outcome = try await publish(doc, progress: progress)
                progress?("\(doc.name) \(doc.versionName): \(outcome.action.rawValue) as version \(outcome.documentVersion)")
                outcomes.append(outcome)
            } catch let error as DocumentsError {
                progress?("\(doc.name) \(doc.versionName): refused")
                refusals.append(error)
            }
        }
        if let first = refusals.first {
            throw PublishRefused(outcomes: outcomes, refusals: refusals, first: first)
        }
        return outcomes
    }

    public struct PublishRefused: Error, CustomStringConvertible, Sendable {
        public let outcomes: [PublishOutcome]
        public let refusals: [DocumentsError]
        let first: DocumentsError
        public var description: String { refusals.map(\.description).joined(separator: "\n") }
    }

    func publish(_ doc: CommandDocument, progress: (@Sendable (String) -> Void)? = nil) async throws -> PublishOutcome {
        if let existing = try await ssm.describeDocument(name: doc.name, versionName: doc.versionName) {
            return try await adopt(doc, existing, as: .unchanged)
        }
        // CreateDocument and UpdateDocument act once and have no client token: an answer lost after SSM acted, an
        // earlier publish killed while its call was in flight, or another publisher, may have put the version
        // there already. Before anything is sent again, SSM is asked for the version by its VersionName; the same
        // content is adopted ("reused"), never created twice and never an error for the operator.
        var attempts = 0
        while true {
            attempts += 1
            let created: SSMDocumentDescription
            let action: PublishOutcome.Action
            do {
                if try await ssm.describeDocument(name: doc.name) == nil {
                    created = try await ssm.createDocument(name: doc.name, content: doc.content, versionName: doc.versionName)
                    action = .created
                } else {
                    created = try await ssm.updateDocument(name: doc.name, content: doc.content, versionName: doc.versionName)
                    action = .added
                }
            } catch let error as AWSError where error.outcomeUnknown || Self.alreadyThere.contains(error.code) {
                if let there = try await ssm.describeDocument(name: doc.name, versionName: doc.versionName) {
                    progress?("\(doc.name) \(doc.versionName): \(error.outcomeUnknown ? "the \(error.operation) answer was lost" : error.code), but SSM holds the version: adopted")
                    return try await adopt(doc, there, as: .reused)
                }
                if error.code == "DuplicateDocumentContent" {
                    throw DocumentsError.contentElsewhere(name: doc.name, versionName: doc.versionName)
                }
                // Not carried out (or the document appeared without this version): sent again, a bounded number
                // of times; DuplicateDocumentVersionName without a version of that name cannot be settled here.
                guard attempts < 3, error.outcomeUnknown || error.code == "DocumentAlreadyExists" else { throw error }
                progress?("\(doc.name) \(doc.versionName): \(error.outcomeUnknown ? "no answer (\(error.code))" : error.code) and SSM holds no such version; sending again")
                continue
            }
            if let hash = created.hash, hash != doc.sha256 {
                // SSM hashes the content it stores; a different hash means it stored something else than was sent.
                throw DocumentsError.changed(name: doc.name, versionName: doc.versionName,
                                             documentVersion: created.documentVersion ?? "?", published: hash, expected: doc.sha256)
            }
            return PublishOutcome(name: doc.name, versionName: doc.versionName, action: action,
                                  documentVersion: created.documentVersion ?? "?", sha256: doc.sha256)
        }
    }

    /// What SSM answers when the version (or the document, or its content) is already there.
    static let alreadyThere: Set<String> = ["DocumentAlreadyExists", "DuplicateDocumentVersionName", "DuplicateDocumentContent"]

    /// A version SSM already holds under the VersionName: kept when its content is what the payload builds.
    func adopt(_ doc: CommandDocument, _ existing: SSMDocumentDescription,
               as action: PublishOutcome.Action) async throws -> PublishOutcome {
        let version = existing.documentVersion ?? "?"
        guard try await sameContent(doc, existing) else {
            throw DocumentsError.changed(name: doc.name, versionName: doc.versionName, documentVersion: version,
                                         published: existing.hash ?? "?", expected: doc.sha256)
        }
        return PublishOutcome(name: doc.name, versionName: doc.versionName, action: action,
                              documentVersion: version, sha256: existing.hash ?? doc.sha256)
    }

    /// Same hash: same content. A different hash is looked at once more (GetDocument) before it counts as
    /// changed, in case SSM stored the JSON in another layout: the parsed JSON must then be equal.
    func sameContent(_ doc: CommandDocument, _ existing: SSMDocumentDescription) async throws -> Bool {
        if existing.hash == doc.sha256 { return true }
        guard let version = existing.documentVersion else { return false }
        let stored = try await ssm.getDocument(name: doc.name, documentVersion: version)
        guard let text = stored.content, let mine = try? JSONParser.parse(doc.content),
              let theirs = try? JSONParser.parse(text) else { return false }
        return mine == theirs
    }

    /// Each manifest version's document as SSM holds it, plus any version SSM holds that the manifest does not
    /// list. Versions are read with DescribeDocument, 1 up to the document's LatestVersion (a deleted version is
    /// skipped): ListDocumentVersions would do it in fewer calls, but moto does not serve it, and the local AWS
    /// must run the same code as production.
    public func inspect() async throws -> [DocumentState] {
        let docs = try expected()
        var states: [DocumentState] = []
        var names: [String] = []
        for doc in docs where !names.contains(doc.name) { names.append(doc.name) }
        for name in names {
            let published = try await versions(of: name)
            var listed = Set<String>()
            for doc in docs where doc.name == name {
                listed.insert(doc.versionName)
                guard let described = published.first(where: { $0.versionName == doc.versionName }) else {
                    states.append(DocumentState(name: name, versionName: doc.versionName, status: .missing,
                                                expectedSha256: doc.sha256))
                    continue
                }
                let same = try await sameContent(doc, described)
                states.append(DocumentState(name: name, versionName: doc.versionName, status: same ? .current : .changed,
                                            documentVersion: described.documentVersion, expectedSha256: doc.sha256,
                                            publishedSha256: described.hash))
            }
            for described in published where !listed.contains(described.versionName ?? "") {
                states.append(DocumentState(name: name, versionName: described.versionName ?? "", status: .unknown,
                                            documentVersion: described.documentVersion, publishedSha256: described.hash))
            }
        }
        return states
    }

    /// Every version SSM holds of `name`, oldest first; empty when the document does not exist.
    func versions(of name: String) async throws -> [SSMDocumentDescription] {
        guard let current = try await ssm.describeDocument(name: name) else { return [] }
        let latest = Int(current.latestVersion ?? current.documentVersion ?? "") ?? 0
        var all: [SSMDocumentDescription] = []
        for n in stride(from: 1, through: latest, by: 1) {
            if let one = try await ssm.describeDocument(name: name, documentVersion: String(n)) { all.append(one) }
        }
        return all
    }

    /// The version to send `entry` with: found by its VersionName; the hash is the one clonectl builds, so SSM
    /// itself refuses the command if the version it holds was altered.
    public func pin(_ entry: Manifest.Payload, region: String) async throws -> DocumentPin {
        let doc = try CommandDocument.build(store: store, entry: entry, prefix: prefix)
        guard let described = try await ssm.describeDocument(name: doc.name, versionName: doc.versionName),
              let version = described.documentVersion else {
            throw WorkflowError.precondition(DocumentsError.notPublished(name: doc.name, versionName: doc.versionName).description)
        }
        let arn = CommandDocument.arn(region: region, account: described.owner ?? "", name: doc.name)
        return DocumentPin(name: doc.name, documentVersion: version, versionName: doc.versionName, sha256: doc.sha256, arn: arn)
    }
}
