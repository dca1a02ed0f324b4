import AWSCredentials
import AWSHTTP
import Foundation
import Testing

/// A throwaway HOME with ~/.aws files, removed when the test is done; its environment holds only HOME, so nothing
/// from the machine running the tests leaks in.
final class TempHome {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("creds-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url.appendingPathComponent(".aws"), withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        ["HOME": path].merging(extra) { _, new in new }
    }

    func writeConfig(_ text: String) throws { try write(".aws/config", text) }
    func writeCredentials(_ text: String) throws { try write(".aws/credentials", text) }

    /// Writes a file under HOME and returns its absolute path.
    @discardableResult
    func write(_ relative: String, _ text: String, executable: Bool = false) throws -> String {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: file, atomically: true, encoding: .utf8)
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file.path) }
        return file.path
    }
}

/// An HTTP transport that answers from a script and records what it was asked.
actor FakeTransport: HTTPTransport {
    typealias Handler = @Sendable (HTTPRequest) throws -> HTTPResponse
    private let handler: Handler
    private(set) var requests: [HTTPRequest] = []

    init(_ handler: @escaping Handler) { self.handler = handler }

    func execute(_ request: HTTPRequest, options: HTTPRequestOptions) async throws -> HTTPResponse {
        requests.append(request)
        return try handler(request)
    }

    /// A transport that fails every request as if nothing listened.
    static func unreachable(_ kind: HTTPTransportError.Kind = .connect) -> FakeTransport {
        FakeTransport { request in throw HTTPTransportError(kind: kind, message: "refused", url: request.url) }
    }
}

func ok(_ body: String, status: Int = 200) -> HTTPResponse {
    HTTPResponse(status: status, headers: [], body: Array(body.utf8))
}

/// A wall clock the test moves by hand.
final class FakeClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }
    var now: Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }
    var function: @Sendable () -> Date { { self.now } }
}

/// An AssumeRoleFunction that records its requests and answers with role credentials named after the role.
final class FakeSTS: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [AssumeRoleRequest] = []
    var requests: [AssumeRoleRequest] { lock.withLock { recorded } }

    var function: AssumeRoleFunction {
        { request in
            self.lock.withLock { self.recorded.append(request) }
            let role = request.roleArn.split(separator: "/").last.map(String.init) ?? "role"
            return AWSCredentials(accessKeyId: "ASIA-\(role)", secretAccessKey: "secret-\(role)",
                                  sessionToken: "token-\(role)", expiration: Date(timeIntervalSince1970: 1_900_000_000),
                                  source: "sts")
        }
    }
}

let noSTS: AssumeRoleFunction = { _ in
    Issue.record("assumeRole must not be called")
    throw AWSConfigError(.assumeRole, "not expected")
}

/// Runs `body`, expects an AWSConfigError of `kind`, and returns its message for further checks.
@discardableResult
func expectConfigError(_ kind: AWSConfigError.Kind, sourceLocation: SourceLocation = #_sourceLocation,
                       _ body: () async throws -> Void) async -> String {
    do {
        try await body()
        Issue.record("expected an AWSConfigError(.\(kind)), got success", sourceLocation: sourceLocation)
    } catch let error as AWSConfigError {
        #expect(error.kind == kind, "message: \(error.message)", sourceLocation: sourceLocation)
        return error.message
    } catch {
        Issue.record("expected AWSConfigError(.\(kind)), got \(error)", sourceLocation: sourceLocation)
    }
    return ""
}

/// The default chain for a temp home, with a transport that finds no container or IMDS.
func chain(_ home: TempHome, env: [String: String] = [:], profile: String? = nil,
           http: any HTTPTransport = FakeTransport.unreachable(),
           assumeRole: @escaping AssumeRoleFunction = noSTS) throws -> DefaultCredentialChain {
    let settings = try AWSSettings.resolve(ExplicitSettings(profile: profile, region: "us-east-1"),
                                           environment: home.environment(env))
    return DefaultCredentialChain(profileName: settings.profileName, profileExplicit: settings.profileExplicit,
                                  config: settings.config, environment: settings.environment, http: http,
                                  assumeRole: assumeRole, region: settings.region.name)
}
