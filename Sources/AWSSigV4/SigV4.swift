import ClonectlCrypto
import Foundation

/// AWS Signature Version 4 for headers, as a pure function: request, credentials, scope and time in; every stage
/// (canonical request, string to sign, signature) and the headers to send out.
///
/// The work is done on UTF-8 bytes in one growing buffer per stage: no Character iteration, no DateFormatter,
/// and the signing key comes from `SigningKeyCache`, so one signature is two SHA-256s and one HMAC.
public enum SigV4 {
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// The payload-hash placeholder for S3 requests whose body is not hashed.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// Signs `request` for `service` in `region` at `date`. Never fails: any string is signable, and a request
    /// that AWS will reject (no `host` header, say) is the caller's to build properly.
    public static func sign(_ request: SigV4Request, credentials: SigV4Credentials, region: String,
                            service: String, date: Date, options: SigV4Options = .init(),
                            keyCache: SigningKeyCache = .shared) -> SigV4Result {
        let dateBytes = amzDateBytes(date)
        let amzDate = String(decoding: dateBytes, as: UTF8.self)
        let day = String(decoding: dateBytes[0..<8], as: UTF8.self)
        let scope = day + "/" + region + "/" + service + "/aws4_request"
        let token = credentials.sessionToken.flatMap { $0.isEmpty ? nil : $0 }

        let payloadHash = options.payloadHash
            ?? (options.signBody ? nil : headerValue(request.headers, "x-amz-content-sha256"))
            ?? hexString(Crypto.sha256(request.body))

        // The headers that go on the wire, ours replacing stale copies of the same names.
        var sent: [SigV4Header] = []
        sent.reserveCapacity(request.headers.count + 4)
        var entries: [CanonicalHeaders.Entry] = []
        entries.reserveCapacity(request.headers.count + 3)
        for header in request.headers {
            let name = CanonicalHeaders.lowercasedName(header.name)
            if isReplaced(name, hasToken: token != nil, signBody: options.signBody) { continue }
            sent.append(header)
            if isNeverSigned(name) || options.unsignedHeaders.contains(String(decoding: name, as: UTF8.self)) {
                continue
            }
            entries.append(.init(name: name, value: CanonicalHeaders.foldedValue(header.value), order: entries.count))
        }
        func add(_ name: String, _ value: String, signed: Bool) {
            sent.append(SigV4Header(name: name, value: value))
            if signed { entries.append(.init(name: Array(name.utf8), value: Array(value.utf8), order: entries.count)) }
        }
        add("x-amz-date", amzDate, signed: true)
        if let token, !options.omitSessionToken { add("x-amz-security-token", token, signed: true) }
        if options.signBody { add("x-amz-content-sha256", payloadHash, signed: true) }

        // Canonical request: method, URI, query, headers, signed headers, payload hash.
        var canonical: [UInt8] = []
        canonical.reserveCapacity(256 + request.path.utf8.count * 3 + request.query.utf8.count * 3
            + request.headers.count * 64)
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
        signedHeaderBytes.reserveCapacity(entries.count * 16)
        CanonicalHeaders.append(&entries, canonical: &canonical, signed: &signedHeaderBytes)
        canonical.append(0x0a)
        canonical.append(contentsOf: signedHeaderBytes)
        canonical.append(0x0a)
        canonical.append(contentsOf: payloadHash.utf8)

        // String to sign: algorithm, time, scope, hash of the canonical request.
        var toSign: [UInt8] = []
        toSign.reserveCapacity(128 + scope.utf8.count)
        toSign.append(contentsOf: algorithm.utf8)
        toSign.append(0x0a)
        toSign.append(contentsOf: dateBytes)
        toSign.append(0x0a)
        toSign.append(contentsOf: scope.utf8)
        toSign.append(0x0a)
        appendHex(Crypto.sha256(canonical), to: &toSign)

        let key = keyCache.signingKey(secret: credentials.secretAccessKey, date: day, region: region,
                                      service: service)
        let signature = hexString(Crypto.hmacSHA256(key: key, data: toSign))
        let signedHeaders = String(decoding: signedHeaderBytes, as: UTF8.self)
        let authorization = algorithm + " Credential=" + credentials.accessKeyId + "/" + scope
            + ", SignedHeaders=" + signedHeaders + ", Signature=" + signature
        if let token, options.omitSessionToken { sent.append(SigV4Header(name: "x-amz-security-token", value: token)) }
        sent.append(SigV4Header(name: "authorization", value: authorization))

        return SigV4Result(
            canonicalRequest: String(decoding: canonical, as: UTF8.self),
            stringToSign: String(decoding: toSign, as: UTF8.self),
            signature: signature, authorization: authorization, credentialScope: scope,
            signedHeaders: signedHeaders, payloadHash: payloadHash, amzDate: amzDate, headers: sent)
    }

    /// Headers the signer sets itself, so a copy in the input is dropped rather than sent twice.
    private static func isReplaced(_ name: [UInt8], hasToken: Bool, signBody: Bool) -> Bool {
        switch name.count {
        case 10: return name.elementsEqual("x-amz-date".utf8)
        case 13: return name.elementsEqual("authorization".utf8)
        case 20:
            return (hasToken && name.elementsEqual("x-amz-security-token".utf8))
                || (signBody && name.elementsEqual("x-amz-content-sha256".utf8))
        default: return false
        }
    }

    private static func isNeverSigned(_ name: [UInt8]) -> Bool {
        name.count == 13 && name.elementsEqual("authorization".utf8)
    }

    private static func headerValue(_ headers: [SigV4Header], _ lowerName: String) -> String? {
        headers.first { $0.name.utf8.count == lowerName.utf8.count && $0.name.lowercased() == lowerName }
            .map { String(decoding: CanonicalHeaders.foldedValue($0.value), as: UTF8.self) }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func appendHex(_ bytes: [UInt8], to out: inout [UInt8]) {
        for b in bytes {
            out.append(hexDigits[Int(b >> 4)])
            out.append(hexDigits[Int(b & 0x0f)])
        }
    }

    static func hexString(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        appendHex(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
