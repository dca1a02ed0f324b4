import AWSCredentials
import AWSHTTP
import AWSSigV4
import Foundation

/// The S3 calls clonectl makes (reading Run Command's full output), over REST-XML with S3's SigV4 rules: the path
/// is neither normalised nor encoded twice, and `x-amz-content-sha256` (the payload's SHA-256) is signed.
public struct S3Client: Sendable {
    public let client: AWSClient
    /// Where S3 requests go before the bucket is placed (AWS's host or a configured endpoint).
    public let endpoint: ResolvedEndpoint
    public let settings: S3Settings

    public init(client: AWSClient, endpoint: ResolvedEndpoint, settings: S3Settings) {
        self.client = client
        self.endpoint = endpoint
        self.settings = settings
    }

    /// How S3 signs: no `.`/`..` removal, the wire path taken as already encoded, the body's hash signed.
    static let signing = SigV4Options(normalizePath: false, uriEncodePath: false, signBody: true)

    public func location(bucket: String, key: String) -> S3Addressing.Location {
        S3Addressing.locate(bucket: bucket, key: key, endpoint: endpoint, region: client.region, settings: settings)
    }

    /// The object's bytes (GetObject). S3's own errors come through as they are (NoSuchKey, NoSuchBucket,
    /// AccessDenied, PermanentRedirect with the bucket's region in the message).
    public func getObject(bucket: String, key: String) async throws -> [UInt8] {
        try await send("GetObject", method: "GET", bucket: bucket, key: key).body
    }

    /// At most the first `limit` bytes of the object (GetObject with `Range: bytes=0-(limit-1)`, the same
    /// s3:GetObject permission), and its whole size when S3 said it (Content-Range, else Content-Length): a caller
    /// that must not hold an unbounded object reads this way. An empty object answers InvalidRange: returned as empty.
    public func getObjectPrefix(bucket: String, key: String, limit: Int) async throws -> (body: [UInt8], size: Int?) {
        do {
            let r = try await send("GetObject", method: "GET", bucket: bucket, key: key,
                                   headers: [HTTPHeader("Range", "bytes=0-\(max(0, limit - 1))")])
            let total = r.header("Content-Range").flatMap { $0.split(separator: "/").last.flatMap { Int($0) } }
                ?? r.header("Content-Length").flatMap { Int($0) }
            return (r.body, total)
        } catch let error as AWSError where error.code == "InvalidRange" || error.code == "HTTP416" {
            return ([], 0)
        }
    }

    /// PutObject, for the tools and tests that seed a bucket; clonectl itself only reads.
    public func putObject(bucket: String, key: String, body: [UInt8], contentType: String = "text/plain") async throws {
        _ = try await send("PutObject", method: "PUT", bucket: bucket, key: key, body: body,
                           headers: [HTTPHeader("Content-Type", contentType)])
    }

    /// CreateBucket in the client's region (outside us-east-1 with its LocationConstraint). For tests and tools
    /// that prepare a bucket; clonectl never creates one for the operator.
    public func createBucket(bucket: String) async throws {
        let body = client.region == "us-east-1" ? [] : Array("""
            <CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\
            <LocationConstraint>\(client.region)</LocationConstraint></CreateBucketConfiguration>
            """.utf8)
        _ = try await send("CreateBucket", method: "PUT", bucket: bucket, key: "", body: body)
    }

    /// HeadBucket: whether the bucket exists and may be used by the caller (404 NotFound, 403 Forbidden otherwise).
    public func headBucket(bucket: String) async throws {
        _ = try await send("HeadBucket", method: "HEAD", bucket: bucket, key: "")
    }

    private func send(_ operation: String, method: String, bucket: String, key: String, body: [UInt8] = [],
                      headers: [HTTPHeader] = []) async throws -> HTTPResponse {
        let where_ = location(bucket: bucket, key: key)
        let shape = AWSClient.RequestShape(method: method, base: try AWSEndpoint(where_.base), path: where_.path,
                                           headers: headers, body: body, signing: Self.signing)
        do {
            return try await client.perform(operation: operation, request: shape)
        } catch var error as AWSError where error.kind == .service {
            error.message = Self.explain(error, bucket: bucket, key: key)
            throw error
        }
    }

    /// S3's short answers, said in full: a HEAD has no body to say why, a redirect names a region only in a header.
    static func explain(_ error: AWSError, bucket: String, key: String) -> String {
        let object = key.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(key)"
        switch error.code {
        case "NoSuchBucket":
            return "bucket \(bucket) does not exist (or not in this account and region)"
        case "HTTP404" where key.isEmpty:
            return "bucket \(bucket) does not exist (or not in this account and region)"
        case "NoSuchKey", "HTTP404":
            return "\(object) does not exist"
        case "AccessDenied", "HTTP403":
            return "access to \(object) was denied: the caller needs s3:\(key.isEmpty ? "ListBucket" : "GetObject") on "
                + "arn:aws:s3:::\(bucket)\(key.isEmpty ? "" : "/\(key)")" + (error.message.isEmpty ? "" : " (\(error.message))")
        case "PermanentRedirect", "HTTP301", "AuthorizationHeaderMalformed":
            return "bucket \(bucket) is in another region than the one clonectl signs for: \(error.message)"
        default:
            return error.message
        }
    }
}
