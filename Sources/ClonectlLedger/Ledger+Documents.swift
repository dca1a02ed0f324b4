import Foundation

/// How one command reached the instance: the document SendCommand named, and in documents mode its ARN, the
/// version pinned and the SHA-256 sent as DocumentHash.
public struct CommandDocumentRecord: Sendable, Equatable {
    public var nonce: String
    public var mode: String
    public var documentName: String
    public var documentARN: String?
    public var documentVersion: String?
    public var documentHash: String?

    public init(nonce: String, mode: String, documentName: String, documentARN: String? = nil,
                documentVersion: String? = nil, documentHash: String? = nil) {
        self.nonce = nonce
        self.mode = mode
        self.documentName = documentName
        self.documentARN = documentARN
        self.documentVersion = documentVersion
        self.documentHash = documentHash
    }
}

extension Ledger {
    /// Written with the intent, before the command goes out.
    public func recordCommandDocument(_ r: CommandDocumentRecord) throws {
        try locked {
            try database.execute("""
                INSERT INTO command_documents (nonce, mode, document_name, document_arn, document_version, document_hash)
                VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (nonce) DO NOTHING
                """, [.text(r.nonce), .text(r.mode), .text(r.documentName), .optional(r.documentARN),
                      .optional(r.documentVersion), .optional(r.documentHash)])
        }
    }

    /// The document record of the command sent with `nonce`; nil for a command sent before migration 5.
    public func commandDocument(nonce: String) throws -> CommandDocumentRecord? {
        try locked {
            try database.query("""
                SELECT nonce, mode, document_name, document_arn, document_version, document_hash
                FROM command_documents WHERE nonce = ?
                """, [.text(nonce)]) { r in
                CommandDocumentRecord(nonce: r.text(0) ?? "", mode: r.text(1) ?? "", documentName: r.text(2) ?? "",
                                      documentARN: r.text(3), documentVersion: r.text(4), documentHash: r.text(5))
            }.first
        }
    }
}
