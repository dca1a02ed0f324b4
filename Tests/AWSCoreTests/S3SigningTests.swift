import Testing
import Foundation
import AWSHTTP
import AWSRetry
import AWSSigV4
import AWSCredentials
@testable import AWSCore

/// S3's SigV4 through the client's own request path (addressing, key encoding, `x-amz-content-sha256`, no path
/// normalisation) against the signatures the S3 API reference prints in "Signature Calculations for the
/// Authorization Header: Transferring Payload in a Single Chunk" (examplebucket, 20130524T000000Z, us-east-1).
@Suite struct S3SigningTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let creds = AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: secret, source: "test")
    static let date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z

    /// An S3 client as AWSSession builds it for us-east-1 with the default endpoint.
    static func client(region: String = "us-east-1", endpointURL: String? = nil, environment: [String: String] = [:],
                       settings: S3Settings = S3Settings()) throws -> S3Client {
        let resolved = try EndpointResolver.resolve(.s3, region: region, explicitURL: endpointURL, environment: environment,
                                                    profile: ConfigProfile(name: "default"), config: SharedConfig())
        var options = AWSClient.Options()
        options.clock = { date }
        let aws = AWSClient(service: .s3, endpoint: try AWSEndpoint(resolved.url), region: region,
                            credentials: StaticCredentialProvider(creds), transport: ScriptedTransport([]),
                            retry: try RetryStrategy(configuration: RetryConfiguration(mode: .standard)), options: options)
        return S3Client(client: aws, endpoint: resolved, settings: settings)
    }

    /// The signed request for `key` in examplebucket, built as S3Client.send builds it.
    static func signed(_ s3: S3Client, method: String, key: String, query: String = "", headers: [HTTPHeader] = [],
                       body: [UInt8] = []) throws -> HTTPRequest {
        let at = s3.location(bucket: "examplebucket", key: key)
        let shape = AWSClient.RequestShape(method: method, base: try AWSEndpoint(at.base), path: at.path, query: query,
                                           headers: headers, body: body, signing: S3Client.signing)
        return s3.client.sign(shape, credentials: creds)
    }

    static func header(_ r: HTTPRequest, _ name: String) -> String? {
        r.headers.first { $0.name.lowercased() == name }?.value
    }

    @Test func getObjectWithARangeMatchesTheDocumentedSignature() throws {
        let r = try Self.signed(try Self.client(), method: "GET", key: "test.txt", headers: [HTTPHeader("Range", "bytes=0-9")])
        #expect(r.url == "https://examplebucket.s3.amazonaws.com/test.txt", "us-east-1: the global host, virtual-hosted")
        #expect(Self.header(r, "x-amz-content-sha256") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Self.header(r, "authorization") == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func putObjectEncodesTheKeyOnceAndSignsThePayloadHash() throws {
        let body = Array("Welcome to Amazon S3.".utf8)
        let r = try Self.signed(try Self.client(), method: "PUT", key: "test$file.text", headers: [
            HTTPHeader("Date", "Fri, 24 May 2013 00:00:00 GMT"), HTTPHeader("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ], body: body)
        #expect(r.url == "https://examplebucket.s3.amazonaws.com/test%24file.text")
        #expect(Self.header(r, "x-amz-content-sha256") == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        #expect(Self.header(r, "authorization")?.hasSuffix("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd") == true,
                "\(Self.header(r, "authorization") ?? "-")")
    }

    @Test func bucketSubresourceAndListingQueriesMatchTheDocumentedSignatures() throws {
        let s3 = try Self.client()
        let lifecycle = try Self.signed(s3, method: "GET", key: "", query: "lifecycle")
        #expect(Self.header(lifecycle, "authorization")?.hasSuffix("Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543") == true)
        let list = try Self.signed(s3, method: "GET", key: "", query: "max-keys=2&prefix=J")
        #expect(Self.header(list, "authorization")?.hasSuffix("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7") == true)
    }

    @Test func aKeyIsNeitherNormalisedNorEncodedTwice() throws {
        let r = try Self.signed(try Self.client(region: "eu-west-1"), method: "GET", key: "a//b/./c d/%41")
        #expect(r.url == "https://examplebucket.s3.eu-west-1.amazonaws.com/a//b/./c%20d/%2541")
    }

    @Test func addressingFollowsTheEndpointTheBucketAndTheSettings() throws {
        func at(_ bucket: String, region: String = "eu-central-1", url: String? = nil, env: [String: String] = [:],
                _ settings: S3Settings = S3Settings()) throws -> String {
            let s3 = try Self.client(region: region, endpointURL: url, environment: env, settings: settings)
            let l = s3.location(bucket: bucket, key: "p/k")
            return l.base + l.path
        }
        #expect(try at("logs") == "https://logs.s3.eu-central-1.amazonaws.com/p/k")
        // Dots would not match the wildcard certificate; upper case and underscores are not host labels.
        #expect(try at("my.logs") == "https://s3.eu-central-1.amazonaws.com/my.logs/p/k")
        #expect(try at("My_Logs") == "https://s3.eu-central-1.amazonaws.com/My_Logs/p/k")
        #expect(try at("logs", S3Settings(addressingStyle: .path)) == "https://s3.eu-central-1.amazonaws.com/logs/p/k")
        #expect(try at("logs", region: "us-east-1") == "https://logs.s3.amazonaws.com/p/k")
        #expect(try at("logs", region: "us-east-1", S3Settings(usEast1Regional: true)) == "https://logs.s3.us-east-1.amazonaws.com/p/k")
        #expect(try at("logs", region: "cn-north-1") == "https://logs.s3.cn-north-1.amazonaws.com.cn/p/k")
        // A configured endpoint: path style on an IP address or localhost (moto), virtual only when asked for or a DNS host.
        #expect(try at("logs", env: ["AWS_ENDPOINT_URL_S3": "http://127.0.0.1:5000"]) == "http://127.0.0.1:5000/logs/p/k")
        #expect(try at("logs", url: "http://localhost:5000/") == "http://localhost:5000/logs/p/k")
        #expect(try at("logs", env: ["AWS_ENDPOINT_URL_S3": "https://s3.vpce.example.com"]) == "https://logs.s3.vpce.example.com/p/k")
        #expect(try at("logs", env: ["AWS_ENDPOINT_URL_S3": "https://s3.vpce.example.com"], S3Settings(addressingStyle: .path))
                == "https://s3.vpce.example.com/logs/p/k")
    }

    @Test func theProfilesS3BlockAndTheEnvironmentChooseTheStyle() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("clonectl-s3-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home.appendingPathComponent(".aws"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let config = home.appendingPathComponent(".aws/config")
        try "[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n  us_east_1_regional_endpoint = regional\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let env = ["HOME": home.path, "AWS_CONFIG_FILE": config.path]
        let settings = try AWSSettings.resolve(environment: env)
        #expect(try settings.s3Settings() == S3Settings(addressingStyle: .path, usEast1Regional: true))
        #expect(try AWSSettings.resolve(environment: env.merging(["AWS_S3_US_EAST_1_REGIONAL_ENDPOINT": "legacy"]) { $1 })
            .s3Settings().usEast1Regional == false)
        try "[default]\nregion = eu-west-1\ns3 =\n  addressing_style = sideways\n".write(to: config, atomically: true, encoding: .utf8)
        #expect(throws: AWSConfigError.self) { try AWSSettings.resolve(environment: env).s3Settings() }
    }

    @Test func s3ErrorsSayWhatToFix() async throws {
        let denied = AWSError(kind: .service, code: "AccessDenied", message: "Access Denied", httpStatus: 403, service: "s3", operation: "GetObject")
        #expect(S3Client.explain(denied, bucket: "b", key: "p/c/i/stdout").contains("s3:GetObject on arn:aws:s3:::b/p/c/i/stdout"))
        let missing = AWSError(kind: .service, code: "HTTP404", message: "", httpStatus: 404, service: "s3", operation: "HeadBucket")
        #expect(S3Client.explain(missing, bucket: "b", key: "") == "bucket b does not exist (or not in this account and region)")
        let noKey = AWSError(kind: .service, code: "NoSuchKey", message: "", httpStatus: 404, service: "s3", operation: "GetObject")
        #expect(S3Client.explain(noKey, bucket: "b", key: "k") == "s3://b/k does not exist")
    }
}
