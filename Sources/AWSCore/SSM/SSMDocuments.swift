import Foundation

// SSM documents (JSON 1.1): what `clonectl documents publish|list|verify` and the documents mode need.

/// DescribeDocument's `Document` (and CreateDocument's / UpdateDocument's `DocumentDescription`), the members
/// clonectl reads.
public struct SSMDocumentDescription: Decodable, Sendable, Equatable {
    public var name: String
    public var documentVersion: String?
    public var versionName: String?
    /// SHA-256 (hex) of the version's content, as SSM computed it.
    public var hash: String?
    public var hashType: String?
    public var owner: String?
    public var status: String?
    public var documentType: String?
    public var latestVersion: String?
    public var defaultVersion: String?

    enum CodingKeys: String, CodingKey {
        case name = "Name", documentVersion = "DocumentVersion", versionName = "VersionName", hash = "Hash"
        case hashType = "HashType", owner = "Owner", status = "Status", documentType = "DocumentType"
        case latestVersion = "LatestVersion", defaultVersion = "DefaultVersion"
    }
}

/// GetDocument's answer: one version's content.
public struct SSMDocumentContent: Decodable, Sendable {
    public var name: String
    public var documentVersion: String?
    public var versionName: String?
    public var content: String?
    enum CodingKeys: String, CodingKey {
        case name = "Name", documentVersion = "DocumentVersion", versionName = "VersionName", content = "Content"
    }
}

extension SSMClient {
    /// DescribeDocument of one version, chosen by number (`"3"`, `$LATEST`) or by its VersionName; nil when SSM
    /// says the document or that version does not exist (InvalidDocument / InvalidDocumentVersion).
    public func describeDocument(name: String, documentVersion: String? = nil,
                                 versionName: String? = nil) async throws -> SSMDocumentDescription? {
        struct Input: Encodable { let Name: String; let DocumentVersion: String?; let VersionName: String? }
        struct Output: Decodable { let Document: SSMDocumentDescription }
        do {
            let out: Output = try await documentCall("DescribeDocument", Input(Name: name, DocumentVersion: documentVersion,
                                                                            VersionName: versionName))
            return out.Document
        } catch let error as AWSError where error.code == "InvalidDocument" || error.code == "InvalidDocumentVersion" {
            return nil
        }
    }

    /// A new Command document whose first version is `content` named `versionName`.
    public func createDocument(name: String, content: String, versionName: String) async throws -> SSMDocumentDescription {
        struct Input: Encodable {
            let Name: String; let Content: String; let VersionName: String; let DocumentType: String
            let DocumentFormat: String
        }
        struct Output: Decodable { let DocumentDescription: SSMDocumentDescription }
        let out: Output = try await documentCall("CreateDocument", Input(
            Name: name, Content: content, VersionName: versionName, DocumentType: "Command", DocumentFormat: "JSON"),
            safety: .actsOnce)
        return out.DocumentDescription
    }

    /// A new version of an existing document (SSM refuses identical content with DuplicateDocumentContent and a
    /// taken VersionName with DuplicateDocumentVersionName).
    public func updateDocument(name: String, content: String, versionName: String) async throws -> SSMDocumentDescription {
        struct Input: Encodable {
            let Name: String; let Content: String; let VersionName: String; let DocumentVersion: String
            let DocumentFormat: String
        }
        struct Output: Decodable { let DocumentDescription: SSMDocumentDescription }
        let out: Output = try await documentCall("UpdateDocument", Input(
            Name: name, Content: content, VersionName: versionName, DocumentVersion: "$LATEST", DocumentFormat: "JSON"),
            safety: .actsOnce)
        return out.DocumentDescription
    }

    /// One version's content (JSON as stored).
    public func getDocument(name: String, documentVersion: String) async throws -> SSMDocumentContent {
        struct Input: Encodable { let Name: String; let DocumentVersion: String; let DocumentFormat: String }
        return try await documentCall("GetDocument", Input(Name: name, DocumentVersion: documentVersion, DocumentFormat: "JSON"))
    }

    /// The document calls, named `documentCall("X"` so the IAM policy tests can tell them from Run Command's.
    private func documentCall<I: Encodable, O: Decodable>(_ operation: String, _ input: I,
                                                          safety: CallSafety = .idempotent) async throws -> O {
        try await call(operation, input, safety: safety)
    }
}
