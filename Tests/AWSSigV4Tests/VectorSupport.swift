import AWSSigV4
import Foundation
import TestSupport

/// One case of awslabs/aws-c-auth's `tests/aws-signing-test-suite/v4/`, copied to shared/testdata.
struct SigV4Vector: CustomStringConvertible {
    struct Context: Decodable {
        struct Credentials: Decodable {
            var access_key_id: String
            var secret_access_key: String
            var token: String?
        }
        var credentials: Credentials
        var normalize: Bool
        var region: String
        var service: String
        var sign_body: Bool
        var timestamp: String
        var omit_session_token: Bool?
    }

    var name: String
    var context: Context
    var requestBytes: [UInt8]
    var canonicalRequest: String
    var stringToSign: String
    var signature: String
    /// The `Authorization` line of header-signed-request.txt, when the file has one.
    var authorization: String?

    var description: String { name }

    var credentials: SigV4Credentials {
        SigV4Credentials(accessKeyId: context.credentials.access_key_id,
                         secretAccessKey: context.credentials.secret_access_key,
                         sessionToken: context.credentials.token)
    }

    var options: SigV4Options {
        SigV4Options(normalizePath: context.normalize, signBody: context.sign_body,
                     omitSessionToken: context.omit_session_token ?? false)
    }

    static var directory: URL { TestEnvironment.sharedTestData.appendingPathComponent("sigv4/aws-c-auth") }

    /// Every case directory, sorted by name; throws a message that says where the vectors were expected.
    static func loadAll() throws -> [SigV4Vector] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw VectorError("SigV4 vectors not found at \(directory.path): copy aws-c-auth's "
                + "tests/aws-signing-test-suite/v4 there or set CLONECTL_SHARED_TESTDATA")
        }
        let names = try fm.contentsOfDirectory(atPath: directory.path).sorted().filter { name in
            fm.fileExists(atPath: directory.appendingPathComponent(name).appendingPathComponent("context.json").path)
        }
        return try names.map { try load($0) }
    }

    static func load(_ name: String) throws -> SigV4Vector {
        let dir = directory.appendingPathComponent(name)
        func read(_ file: String) throws -> Data {
            do { return try Data(contentsOf: dir.appendingPathComponent(file)) } catch {
                throw VectorError("\(name): cannot read \(file): \(error)")
            }
        }
        func text(_ file: String) throws -> String { String(decoding: try read(file), as: UTF8.self) }
        let context: Context
        do { context = try JSONDecoder().decode(Context.self, from: try read("context.json")) } catch {
            throw VectorError("\(name): context.json: \(error)")
        }
        let signed = (try? text("header-signed-request.txt")) ?? ""
        let authorization = signed.split(separator: "\n").first { $0.hasPrefix("Authorization:") }
            .map { String($0.dropFirst("Authorization:".count)) }
        return SigV4Vector(name: name, context: context, requestBytes: Array(try read("request.txt")),
                           canonicalRequest: try text("header-canonical-request.txt"),
                           stringToSign: try text("header-string-to-sign.txt"),
                           signature: try text("header-signature.txt"), authorization: authorization)
    }
}

struct VectorError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
