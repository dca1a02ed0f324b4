import Testing
import Foundation
import AWSCore
import AWSCredentials
import TestSupport

/// The S3 client against moto's S3 with signature checking on (the shared local AWS), resolved the way clonectl
/// resolves it: AWS_ENDPOINT_URL_S3, path style for a loopback endpoint, S3's SigV4. Keys that a double-encoding
/// or normalising signer would get wrong round-trip; the errors say what to fix.
@Suite(.serialized) struct S3MotoTests {
    static func session(_ local: LocalAWS, key: String? = nil, secret: String? = nil) throws -> AWSSession {
        let env = ["HOME": "/nonexistent", "AWS_ACCESS_KEY_ID": key ?? local.accessKeyId,
                   "AWS_SECRET_ACCESS_KEY": secret ?? local.secretAccessKey, "AWS_REGION": local.region,
                   "AWS_ENDPOINT_URL_S3": local.endpoint, "AWS_ENDPOINT_URL": local.endpoint,
                   "AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "1"]
        return try AWSSession(settings: try AWSSettings.resolve(environment: env))
    }

    @Test func objectsRoundTripWithKeysThatNeedS3sOwnEncoding() async throws {
        let local = try LocalAWS.shared()
        let session = try Self.session(local)
        defer { session.shutdown() }
        let s3 = session.s3
        #expect(s3.endpoint.source == "AWS_ENDPOINT_URL_S3")
        let bucket = "clonectl-s3-\(UUID().uuidString.prefix(8).lowercased())"
        try await s3.createBucket(bucket: bucket)
        try await s3.headBucket(bucket: bucket)
        #expect(!s3.location(bucket: bucket, key: "k").virtualHosted, "a loopback endpoint is addressed path style")
        // moto's own S3 signature check mis-encodes `+ $ = & ~ ( ) ! * '` and non-ASCII (boto3's requests fail on
        // them too), so those are proved against AWS's vectors in S3SigningTests; here: spaces, `//` and `/./`,
        // which a normalising signer (or curl squashing dot segments) would break.
        let keys = ["runs/cmd/i-0/awsrunPowerShellScript/0.awsrunPowerShellScript/stdout", "a b/c  d", "x//y/./z/../w"]
        for (n, key) in keys.enumerated() {
            let body = Array("output \(n): \(key)\n".utf8) + [UInt8](repeating: 0x41, count: 30_000 * n)
            try await s3.putObject(bucket: bucket, key: key, body: body)
            #expect(try await s3.getObject(bucket: bucket, key: key) == body, "\(key)")
        }
        await #expect {
            _ = try await s3.getObject(bucket: bucket, key: "runs/no-such-key")
        } throws: { ($0 as? AWSError)?.code == "NoSuchKey" && "\($0)".contains("s3://\(bucket)/runs/no-such-key does not exist") }
        // The same key with its dot segments resolved is another object, which does not exist.
        await #expect(throws: AWSError.self) { _ = try await s3.getObject(bucket: bucket, key: "x/y/w") }
        await #expect {
            try await s3.headBucket(bucket: "clonectl-no-such-bucket-\(UUID().uuidString.prefix(6).lowercased())")
        } throws: { "\($0)".contains("does not exist") }
    }

    @Test func aReaderWithoutGetObjectIsToldWhichPermissionItLacks() async throws {
        let local = try LocalAWS.shared()
        guard let roKey = local.readOnlyAccessKeyId, let roSecret = local.readOnlySecretAccessKey else {
            throw LocalAWSError.missing("the local AWS has no read-only identity")
        }
        let admin = try Self.session(local)
        defer { admin.shutdown() }
        let bucket = "clonectl-s3-denied-\(UUID().uuidString.prefix(6).lowercased())"
        try await admin.s3.createBucket(bucket: bucket)
        try await admin.s3.putObject(bucket: bucket, key: "p/stdout", body: Array("x".utf8))
        let reader = try Self.session(local, key: roKey, secret: roSecret)
        defer { reader.shutdown() }
        await #expect {
            _ = try await reader.s3.getObject(bucket: bucket, key: "p/stdout")
        } throws: { error in
            let text = "\(error)"
            return (error as? AWSError)?.code == "AccessDenied" && text.contains("s3:GetObject on arn:aws:s3:::\(bucket)/p/stdout")
                && !text.contains(roSecret)
        }
        // A wrong secret is refused by moto's signature check, not answered.
        let forged = try Self.session(local, secret: "not-the-secret")
        defer { forged.shutdown() }
        await #expect {
            _ = try await forged.s3.getObject(bucket: bucket, key: "p/stdout")
        } throws: { ($0 as? AWSError)?.code == "SignatureDoesNotMatch" }
    }
}
