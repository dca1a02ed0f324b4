import AWSSigV4
import Foundation
import Testing

/// Signer behaviour beyond the aws-c-auth vectors: the AWS documentation example, the key cache, session
/// tokens, headers that must not be signed, and canonicalisation corners the vectors do not reach.
@Suite struct SignerTests {
    static let credentials = SigV4Credentials(accessKeyId: "AKIDEXAMPLE",
                                              secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let date = SigV4.parseISO8601("2015-08-30T12:36:00Z")!

    static func request(path: String = "/", query: String = "", headers: [(String, String)] = [],
                        method: String = "GET") -> SigV4Request {
        SigV4Request(method: method, path: path, query: query,
                     headers: [SigV4Header(name: "Host", value: "example.amazonaws.com")]
                        + headers.map { SigV4Header(name: $0.0, value: $0.1) })
    }

    /// The IAM ListUsers example of the AWS General Reference ("Signature Version 4 signing process").
    @Test func awsDocumentationListUsersExample() {
        let request = SigV4Request(method: "GET", path: "/", query: "Action=ListUsers&Version=2010-05-08", headers: [
            SigV4Header(name: "Host", value: "iam.amazonaws.com"),
            SigV4Header(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8"),
        ])
        let result = SigV4.sign(request, credentials: Self.credentials, region: "us-east-1", service: "iam",
                                date: Self.date, keyCache: SigningKeyCache())
        #expect(SigV4.deriveSigningKey(secret: Self.credentials.secretAccessKey, date: "20150830",
                                       region: "us-east-1", service: "iam")
            == hexBytes("c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"))
        #expect(result.stringToSign.hasSuffix("\nf536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"))
        #expect(result.signature == "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
        #expect(result.authorization == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
            + "SignedHeaders=content-type;host;x-amz-date, "
            + "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
    }

    @Test func signingKeyCacheHitReturnsTheSameSignature() throws {
        let cache = SigningKeyCache()
        let request = Self.request()  // exactly aws-c-auth's get-vanilla
        let first = SigV4.sign(request, credentials: Self.credentials, region: "us-east-1", service: "service",
                               date: Self.date, keyCache: cache)
        let second = SigV4.sign(request, credentials: Self.credentials, region: "us-east-1", service: "service",
                                date: Self.date, keyCache: cache)
        #expect(cache.statistics.misses == 1)
        #expect(cache.statistics.hits == 1)
        #expect(first.signature == second.signature)
        #expect(second.signature == (try SigV4Vector.load("get-vanilla")).signature)
        // Another scope is another key, not a stale hit.
        let other = SigV4.sign(request, credentials: Self.credentials, region: "eu-west-1", service: "service",
                               date: Self.date, keyCache: cache)
        #expect(cache.statistics.misses == 2)
        #expect(other.signature != first.signature)
        #expect(cache.signingKey(secret: Self.credentials.secretAccessKey, date: "20150830", region: "eu-west-1",
                                 service: "service")
            == SigV4.deriveSigningKey(secret: Self.credentials.secretAccessKey, date: "20150830",
                                      region: "eu-west-1", service: "service"))
    }

    @Test func signingFromManyTasksAgreesWithTheVector() async throws {
        let vector = try SigV4Vector.load("get-vanilla-query-order-encoded")
        let request = try SigV4.parseRawHTTPRequest(vector.requestBytes)
        let cache = SigningKeyCache(capacity: 2)
        let signatures = await withTaskGroup(of: String.self) { group in
            for i in 0..<64 {
                group.addTask {
                    // Alternate scopes so the cache is filled, emptied and refilled concurrently.
                    let region = i % 3 == 0 ? "us-west-\(i % 5)" : vector.context.region
                    let result = SigV4.sign(request, credentials: vector.credentials, region: region,
                                            service: vector.context.service, date: Self.date, keyCache: cache)
                    return region == vector.context.region ? result.signature : vector.signature
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(signatures.count == 64)
        #expect(signatures.allSatisfy { $0 == vector.signature })
    }

    @Test func sessionTokenAddedAfterSigningIsNotSigned() {
        var credentials = Self.credentials
        credentials.sessionToken = "TOKEN-VALUE"
        let signed = SigV4.sign(Self.request(), credentials: credentials, region: "us-east-1", service: "service",
                                date: Self.date, keyCache: SigningKeyCache())
        #expect(signed.signedHeaders == "host;x-amz-date;x-amz-security-token")
        #expect(signed.canonicalRequest.contains("x-amz-security-token:TOKEN-VALUE\n"))

        let omitted = SigV4.sign(Self.request(), credentials: credentials, region: "us-east-1", service: "service",
                                 date: Self.date, options: SigV4Options(omitSessionToken: true),
                                 keyCache: SigningKeyCache())
        #expect(omitted.signedHeaders == "host;x-amz-date")
        #expect(!omitted.canonicalRequest.contains("TOKEN-VALUE"))
        #expect(omitted.headers.map(\.name) == ["Host", "x-amz-date", "x-amz-security-token", "authorization"])
        #expect(omitted.headers[2].value == "TOKEN-VALUE")
        // Without a token the result is the plain signature.
        let plain = SigV4.sign(Self.request(), credentials: Self.credentials, region: "us-east-1",
                               service: "service", date: Self.date)
        #expect(omitted.signature == plain.signature)
    }

    @Test func unsignedAndStaleHeadersAreHandled() {
        let request = Self.request(headers: [
            ("User-Agent", "clonectl/0.1"), ("X-Amzn-Trace-Id", "Root=1"), ("Authorization", "stale"),
            ("X-Amz-Date", "19990101T000000Z"), ("Content-Length", "0"),
        ])
        let result = SigV4.sign(request, credentials: Self.credentials, region: "us-east-1", service: "service",
                                date: Self.date)
        #expect(result.signedHeaders == "content-length;host;x-amz-date")
        #expect(result.headers.map(\.name)
            == ["Host", "User-Agent", "X-Amzn-Trace-Id", "Content-Length", "x-amz-date", "authorization"])
        #expect(!result.canonicalRequest.contains("1999"))
        #expect(result.amzDate == "20150830T123600Z")

        let custom = SigV4.sign(request, credentials: Self.credentials, region: "us-east-1", service: "service",
                                date: Self.date, options: SigV4Options(unsignedHeaders: ["content-length"]))
        #expect(custom.signedHeaders == "host;user-agent;x-amz-date;x-amzn-trace-id")
    }

    @Test func payloadHashSources() {
        var request = Self.request(method: "PUT")
        request.body = Array("hello".utf8)
        let hashed = SigV4.sign(request, credentials: Self.credentials, region: "r", service: "s", date: Self.date)
        #expect(hashed.payloadHash == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        let overridden = SigV4.sign(request, credentials: Self.credentials, region: "r", service: "s",
                                    date: Self.date, options: SigV4Options(signBody: true,
                                                                           payloadHash: SigV4.unsignedPayload))
        #expect(overridden.canonicalRequest.hasSuffix("\nUNSIGNED-PAYLOAD"))
        #expect(overridden.headers.contains(SigV4Header(name: "x-amz-content-sha256", value: "UNSIGNED-PAYLOAD")))
        request.headers.append(SigV4Header(name: "X-Amz-Content-SHA256", value: " UNSIGNED-PAYLOAD "))
        let fromHeader = SigV4.sign(request, credentials: Self.credentials, region: "r", service: "s",
                                    date: Self.date)
        #expect(fromHeader.payloadHash == "UNSIGNED-PAYLOAD")
    }

    @Test func canonicalQueryCorners() {
        func query(_ raw: String) -> String {
            let r = SigV4.sign(Self.request(query: raw), credentials: Self.credentials, region: "r", service: "s",
                               date: Self.date)
            return String(r.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2])
        }
        #expect(query("b=2&a=3&a=1&a") == "a=&a=1&a=3&b=2")
        #expect(query("k=a+b&j=a%20b&i=%2B&h=%zz") == "h=%25zz&i=%2B&j=a%20b&k=a%20b")
        #expect(query("&&x=1&&") == "x=1")
        #expect(query("path=/a/b*c") == "path=%2Fa%2Fb%2Ac")
        #expect(query("") == "")
    }

    @Test func canonicalPathCorners() {
        func uri(_ path: String, _ options: SigV4Options = .init()) -> String {
            let r = SigV4.sign(Self.request(path: path), credentials: Self.credentials, region: "r", service: "s",
                               date: Self.date, options: options)
            return String(r.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[1])
        }
        #expect(uri("") == "/")
        #expect(uri("/a/b/../c/./d/") == "/a/c/d/")
        #expect(uri("/a%2Fb") == "/a%252Fb")  // double encoding for every service but S3
        let s3 = SigV4Options(normalizePath: false, uriEncodePath: false)
        #expect(uri("/bucket/a%2Fb//c d", s3) == "/bucket/a%2Fb//c%20d")
        #expect(uri("/../..") == "/")
    }
}

func hexBytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var i = hex.startIndex
    while i < hex.endIndex {
        let j = hex.index(i, offsetBy: 2)
        out.append(UInt8(hex[i..<j], radix: 16)!)
        i = j
    }
    return out
}

extension SignerTests {
    @Test func descriptionsNeverShowSecrets() {
        let credentials = SigV4Credentials(accessKeyId: "AKID", secretAccessKey: "SECRET-KEY", sessionToken: "TOKEN")
        let result = SigV4.sign(Self.request(), credentials: credentials, region: "r", service: "s", date: Self.date)
        let texts = ["\(credentials)", "\(result)", "\(result.headers)"]
        for text in texts {
            #expect(!text.contains("SECRET-KEY") && !text.contains("TOKEN"), "\(text)")
        }
        #expect(texts[2].contains("x-amz-security-token: <redacted>"))
    }
}
