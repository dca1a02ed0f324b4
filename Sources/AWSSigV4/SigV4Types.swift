/// The inputs and outputs of `SigV4.sign`.
///
/// Everything is a value type and `Sendable`: signing is a pure function of these values (plus the signing-key
/// cache, which only memoises a pure derivation), so it is safe to call from any number of threads at once.

/// AWS credentials. `description` never shows the secret or the session token.
public struct SigV4Credentials: Sendable, CustomStringConvertible {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String {
        "SigV4Credentials(accessKeyId: \(accessKeyId), secretAccessKey: <redacted>, sessionToken: "
            + (sessionToken == nil ? "nil)" : "<redacted>)")
    }
}

/// How to sign. The defaults suit every service except S3 (S3: `normalizePath = false`, `uriEncodePath = false`).
public struct SigV4Options: Sendable {
    /// Remove `.`/`..` segments and collapse repeated slashes in the canonical URI (not for S3).
    public var normalizePath: Bool
    /// URI-encode each path segment of the wire path again ("double encoding", every service but S3).
    /// When false the wire path is taken as already encoded: only bytes that may not appear in it are encoded.
    public var uriEncodePath: Bool
    /// Add and sign an `x-amz-content-sha256` header carrying the payload hash.
    public var signBody: Bool
    /// Sign without the session token, then add `x-amz-security-token` after signing (some services want this).
    public var omitSessionToken: Bool
    /// A precomputed payload hash (lower-case hex, or e.g. `UNSIGNED-PAYLOAD`); the body is not hashed when set.
    public var payloadHash: String?
    /// Lower-case names of headers that are sent but never signed: proxies and clients rewrite them.
    /// `authorization` is never signed, whatever this holds.
    public var unsignedHeaders: Set<String>

    /// Headers that intermediaries add, drop or rewrite; signing them breaks signatures (moto rejects user-agent).
    public static let defaultUnsignedHeaders: Set<String> = [
        "user-agent", "expect", "x-amzn-trace-id", "transfer-encoding", "connection",
    ]

    public init(normalizePath: Bool = true, uriEncodePath: Bool = true, signBody: Bool = false,
                omitSessionToken: Bool = false, payloadHash: String? = nil,
                unsignedHeaders: Set<String> = SigV4Options.defaultUnsignedHeaders) {
        self.normalizePath = normalizePath
        self.uriEncodePath = uriEncodePath
        self.signBody = signBody
        self.omitSessionToken = omitSessionToken
        self.payloadHash = payloadHash
        self.unsignedHeaders = unsignedHeaders
    }
}

/// One HTTP header, in the order it is (or will be) sent.
public struct SigV4Header: Sendable, Equatable {
    public var name: String
    public var value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// The request to sign, as it will go on the wire.
public struct SigV4Request: Sendable {
    /// `GET`, `POST`, ... (used verbatim).
    public var method: String
    /// The path as on the wire (may contain `%xx`), without the query; empty means `/`.
    public var path: String
    /// The raw query, without the `?`; may contain `%xx`, repeated keys, keys without `=`.
    public var query: String
    public var headers: [SigV4Header]
    public var body: [UInt8]

    public init(method: String, path: String, query: String = "", headers: [SigV4Header] = [], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }
}

/// Every stage of a signature, named after the spec, and the headers to send.
///
/// `canonicalRequest` contains the session token when it was signed: treat it as secret when displaying it.
public struct SigV4Result: Sendable {
    public var canonicalRequest: String
    public var stringToSign: String
    /// Lower-case hex.
    public var signature: String
    /// The full `Authorization` header value.
    public var authorization: String
    /// `yyyymmdd/region/service/aws4_request`.
    public var credentialScope: String
    /// `host;x-amz-date;...`
    public var signedHeaders: String
    public var payloadHash: String
    /// The `x-amz-date` value, `yyyymmddThhmmssZ`.
    public var amzDate: String
    /// The input headers (minus any stale `authorization`/`x-amz-date`/`x-amz-security-token`, and
    /// `x-amz-content-sha256` when `signBody`), then `x-amz-date`, `x-amz-security-token`, `x-amz-content-sha256`
    /// and `authorization`: exactly what to send.
    public var headers: [SigV4Header]
}

// Descriptions that are safe to log: string interpolation of a header or a result never shows a session token.
extension SigV4Header: CustomStringConvertible {
    public var description: String {
        name.lowercased() == "x-amz-security-token" ? "\(name): <redacted>" : "\(name): \(value)"
    }
}

extension SigV4Result: CustomStringConvertible {
    /// The scope, signed headers and signature; not the canonical request, which may hold the session token.
    public var description: String {
        "SigV4Result(scope: \(credentialScope), signedHeaders: \(signedHeaders), signature: \(signature))"
    }
}
