import ClonectlCrypto
import Foundation

/// AWS Signature Version 4 for headers, as a pure function: request, credentials, scope and time in; every stage
/// (canonical request, string to sign, signature) and the headers to send out.
///
/// The work is done on UTF-8 bytes in one growing buffer per stage: no Character iteration, no DateFormatter,
/// and the signing key comes from `SigningKeyCache`, so a signature costs four one-shot SHA-256 digests
/// (body, canonical request, and the two halves of the HMAC).
public enum SigV4 {
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// The payload-hash placeholder for S3 requests whose body is not hashed.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// Signs `request` for `service` in `region` at `date`. Never fails: any string is signable, and a request
    /// that AWS will reject (no `host` header, say) is the caller's to build properly.
    ///
    /// The input headers are signed except `authorization` and `options.unsignedHeaders`; stale `x-amz-date`,
    /// `authorization` (and `x-amz-security-token` when the credentials carry a token, `x-amz-content-sha256`
    /// when `options.signBody`) are replaced by the signer's own. The payload hash is `options.payloadHash`,
    /// else an `x-amz-content-sha256` header already in the request, else the SHA-256 of the body.
    public static func sign(_ request: SigV4Request, credentials: SigV4Credentials, region: String,
                            service: String, date: Date, options: SigV4Options = .init(),
                            keyCache: SigningKeyCache = .shared) -> SigV4Result {
        let dateBytes = amzDateBytes(date)
        let amzDate = String(decoding: dateBytes, as: UTF8.self)
        let day = String(decoding: dateBytes[0..<8], as: UTF8.self)
        var scopeBytes: [UInt8] = []
        scopeBytes.reserveCapacity(32 + region.utf8.count + service.utf8.count)
        scopeBytes.append(contentsOf: dateBytes[0..<8])
        scopeBytes.append(UInt8(ascii: "/"))
        scopeBytes.append(contentsOf: region.utf8)
        scopeBytes.append(UInt8(ascii: "/"))
        scopeBytes.append(contentsOf: service.utf8)
        scopeBytes.append(contentsOf: "/aws4_request".utf8)
        let token = credentials.sessionToken.flatMap { $0.isEmpty ? nil : $0 }

        let payloadHash = options.payloadHash
            ?? (options.signBody ? nil : headerValue(request.headers, "x-amz-content-sha256"))
            ?? HexBytes.string(Crypto.sha256(request.body))

        // The headers that go on the wire, ours replacing stale copies of the same names.
        var sent: [SigV4Header] = []
        sent.reserveCapacity(request.headers.count + 4)
        var headers = CanonicalHeaders(capacity: request.headers.count + 3)
        for header in request.headers {
            let name = headers.stageName(header.name)
            let (replaced, signed) = headers.withName(name) { n in
                (isReplaced(n, hasToken: token != nil, signBody: options.signBody),
                 !isNeverSigned(n) && !options.unsignedHeaders.contains(String(decoding: n, as: UTF8.self)))
            }
            if !replaced { sent.append(header) }
            if replaced || !signed {
                headers.discard(name)
            } else {
                headers.commit(name, value: header.value)
            }
        }
        func add(_ name: String, _ value: String, signed: Bool) {
            sent.append(SigV4Header(name: name, value: value))
            if signed { headers.commit(headers.stageName(name), value: value, fold: false) }
        }
        add("x-amz-date", amzDate, signed: true)
        if let token, !options.omitSessionToken { add("x-amz-security-token", token, signed: true) }
        if options.signBody { add("x-amz-content-sha256", payloadHash, signed: true) }

        // Canonical request: method, URI, query, headers, signed headers, payload hash.
        var canonical: [UInt8] = []
        canonical.reserveCapacity(256 + request.path.utf8.count * 3 + request.query.utf8.count * 3
            + request.headers.count * 64 + (token?.utf8.count ?? 0))
        canonical.append(contentsOf: request.method.utf8)
        canonical.append(0x0a)
        var path = request.path
        path.withUTF8 {
            URIEncoding.appendCanonicalURI($0, normalize: options.normalizePath, encode: options.uriEncodePath,
                                           to: &canonical)
        }
        canonical.append(0x0a)
        var query = request.query
        query.withUTF8 { URIEncoding.appendCanonicalQuery($0, to: &canonical) }
        canonical.append(0x0a)
        var signedHeaderBytes: [UInt8] = []
        signedHeaderBytes.reserveCapacity(128)
        headers.append(canonical: &canonical, signed: &signedHeaderBytes)
        canonical.append(0x0a)
        canonical.append(contentsOf: signedHeaderBytes)
        canonical.append(0x0a)
        canonical.append(contentsOf: payloadHash.utf8)

        // String to sign (algorithm, time, scope, hash of the canonical request), after 64 bytes reserved for
        // the HMAC's inner key pad so it is hashed in place.
        var toSign = [UInt8](repeating: 0, count: 64)
        toSign.reserveCapacity(64 + 128 + scopeBytes.count)
        toSign.append(contentsOf: algorithm.utf8)
        toSign.append(0x0a)
        toSign.append(contentsOf: dateBytes)
        toSign.append(0x0a)
        toSign.append(contentsOf: scopeBytes)
        toSign.append(0x0a)
        HexBytes.append(Crypto.sha256(canonical), to: &toSign)
        let stringToSign = String(decoding: toSign[64...], as: UTF8.self)

        let key = keyCache.entry(secret: credentials.secretAccessKey, date: day, region: region, service: service)
        let signatureBytes = key.mac(overwritingPrefixOf: &toSign)

        var authorization: [UInt8] = []
        authorization.reserveCapacity(160 + scopeBytes.count + signedHeaderBytes.count)
        authorization.append(contentsOf: "AWS4-HMAC-SHA256 Credential=".utf8)
        authorization.append(contentsOf: credentials.accessKeyId.utf8)
        authorization.append(UInt8(ascii: "/"))
        authorization.append(contentsOf: scopeBytes)
        authorization.append(contentsOf: ", SignedHeaders=".utf8)
        authorization.append(contentsOf: signedHeaderBytes)
        authorization.append(contentsOf: ", Signature=".utf8)
        let signatureStart = authorization.count
        HexBytes.append(signatureBytes, to: &authorization)
        let authorizationValue = String(decoding: authorization, as: UTF8.self)
        if let token, options.omitSessionToken { sent.append(SigV4Header(name: "x-amz-security-token", value: token)) }
        sent.append(SigV4Header(name: "authorization", value: authorizationValue))

        return SigV4Result(
            canonicalRequest: String(decoding: canonical, as: UTF8.self),
            stringToSign: stringToSign,
            signature: String(decoding: authorization[signatureStart...], as: UTF8.self),
            authorization: authorizationValue,
            credentialScope: String(decoding: scopeBytes, as: UTF8.self),
            signedHeaders: String(decoding: signedHeaderBytes, as: UTF8.self),
            payloadHash: payloadHash, amzDate: amzDate, headers: sent)
    }

    /// Headers the signer sets itself, so a copy in the input is dropped rather than sent twice.
    private static func isReplaced(_ name: UnsafeBufferPointer<UInt8>, hasToken: Bool, signBody: Bool) -> Bool {
        switch name.count {
        case 10: return name.elementsEqual("x-amz-date".utf8)
        case 13: return name.elementsEqual("authorization".utf8)
        case 20:
            return (hasToken && name.elementsEqual("x-amz-security-token".utf8))
                || (signBody && name.elementsEqual("x-amz-content-sha256".utf8))
        default: return false
        }
    }

    private static func isNeverSigned(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        name.count == 13 && name.elementsEqual("authorization".utf8)
    }

    /// The trimmed value of the first header named `lowerName` (any case).
    private static func headerValue(_ headers: [SigV4Header], _ lowerName: String) -> String? {
        guard let header = headers.first(where: {
            $0.name.utf8.count == lowerName.utf8.count && $0.name.lowercased() == lowerName
        }) else { return nil }
        return header.value.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
