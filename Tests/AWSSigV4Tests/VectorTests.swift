import AWSSigV4
import Foundation
import Testing

/// Every header-signing case of aws-c-auth's SigV4 suite, stage by stage.
@Suite struct VectorTests {
    @Test func allThirtyEightCasesArePresent() throws {
        let vectors = try SigV4Vector.loadAll()
        #expect(vectors.count == 38, "expected 38 cases in \(SigV4Vector.directory.path), found \(vectors.count)")
    }

    @Test func everyStageMatchesEveryVector() throws {
        let vectors = try SigV4Vector.loadAll()
        try #require(!vectors.isEmpty, "no SigV4 vectors found in \(SigV4Vector.directory.path)")
        for vector in vectors {
            let request = try SigV4.parseRawHTTPRequest(vector.requestBytes)
            let date = try #require(SigV4.parseISO8601(vector.context.timestamp), "\(vector): bad timestamp")
            let result = SigV4.sign(request, credentials: vector.credentials, region: vector.context.region,
                                    service: vector.context.service, date: date, options: vector.options,
                                    keyCache: SigningKeyCache())
            #expect(result.canonicalRequest == vector.canonicalRequest, "\(vector): canonical request")
            #expect(result.stringToSign == vector.stringToSign, "\(vector): string to sign")
            #expect(result.signature == vector.signature, "\(vector): signature")
            #expect(result.authorization.hasSuffix("Signature=" + vector.signature), "\(vector): authorization")
            #expect(result.headers.last == SigV4Header(name: "authorization", value: result.authorization),
                    "\(vector): authorization header is sent last")
        }
    }

    /// The signed-request files carry the Authorization line aws-c-auth produced; where that file agrees with
    /// the signature file, the whole header must match.
    @Test func authorizationHeadersMatchSignedRequests() throws {
        var compared = 0
        for vector in try SigV4Vector.loadAll() {
            guard let expected = vector.authorization, expected.hasSuffix("Signature=" + vector.signature) else {
                continue
            }
            let request = try SigV4.parseRawHTTPRequest(vector.requestBytes)
            let date = try #require(SigV4.parseISO8601(vector.context.timestamp))
            let result = SigV4.sign(request, credentials: vector.credentials, region: vector.context.region,
                                    service: vector.context.service, date: date, options: vector.options)
            #expect(result.authorization == expected, "\(vector): Authorization header")
            compared += 1
        }
        #expect(compared >= 30, "only \(compared) signed-request files had a comparable Authorization line")
    }
}
