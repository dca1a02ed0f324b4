import Foundation

/// The bundled local AWS (scripts/localaws.py: moto_server with signature checking on, bootstrapped with an IAM
/// user and a Windows source instance), started once per test process and stopped when the process ends.
public final class LocalAWS: Sendable {
    public let endpoint: String
    public let region: String
    public let accessKeyId: String
    public let secretAccessKey: String
    public let sourceInstanceId: String
    public let sourceImageId: String
    public let subnetId: String
    public let secureParameter: String
    /// A SecureString holding 'CORP\clonectl-join', a newline and a password, for domain-join (nil on older servers).
    public let domainCredentialParameter: String?
    /// A role the bootstrapped user may assume.
    public let roleArn: String
    /// The simulator's control API (`/__sim`), when the simulator fronts moto.
    public let controlEndpoint: String?
    public let securityGroupId: String?
    public let instanceProfile: String?
    /// An identity that may only describe and list (for permission checks).
    public let readOnlyAccessKeyId: String?
    public let readOnlySecretAccessKey: String?
    private let process: ManagedProcess

    /// The shared instance. Fails (with the server's log) when the venv or moto is missing.
    public static func shared() throws -> LocalAWS {
        try cache.withLock { slot in
            if let existing = slot { return existing }
            let started = try LocalAWS()
            slot = started
            return started
        }
    }

    private static let cache = LockedSlot()

    /// A local AWS of the caller's own (not shared), e.g. for tests that stop and image the source.
    /// `config`: simulator timings as JSON (localaws/sim.py).
    public static func startPrivate(config: String = "{}") throws -> LocalAWS { try LocalAWS(config: config) }

    private init(config: String = "{}") throws {
        guard TestEnvironment.hasPython else {
            throw LocalAWSError("no Python venv at \(TestEnvironment.python): run scripts/setup.sh (or set CLONECTL_PYTHON)")
        }
        let port = TestEnvironment.freePort()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("clonectl-localaws-\(port).json")
        try? FileManager.default.removeItem(at: out)
        let script = TestEnvironment.repoRoot.appendingPathComponent("scripts/localaws.py").path
        process = try ManagedProcess(executable: TestEnvironment.python,
                                     arguments: [script, "--port", String(port), "--out", out.path, "--exit-with-parent"]
                                        + (config == "{}" ? [] : ["--config", config]),
                                     port: port)
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: out.path) {
            guard process.process.isRunning, Date() < deadline else {
                process.stop()
                throw LocalAWSError("local AWS did not get ready: \((try? String(contentsOf: process.logURL, encoding: .utf8)) ?? "")")
            }
            usleep(50_000)
        }
        let data = try Data(contentsOf: out)
        try? FileManager.default.removeItem(at: out)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw LocalAWSError("local AWS wrote an unreadable description")
        }
        let info = object.compactMapValues { $0 as? String }
        func field(_ k: String) throws -> String {
            guard let v = info[k] else { throw LocalAWSError("local AWS description lacks \(k)") }
            return v
        }
        endpoint = try field("endpoint")
        region = try field("region")
        accessKeyId = try field("accessKeyId")
        secretAccessKey = try field("secretAccessKey")
        sourceInstanceId = try field("sourceInstanceId")
        sourceImageId = try field("sourceImageId")
        subnetId = try field("subnetId")
        secureParameter = try field("secureParameter")
        roleArn = try field("roleArn")
        domainCredentialParameter = info["domainCredentialParameter"]
        controlEndpoint = info["controlEndpoint"]
        securityGroupId = info["securityGroupId"]
        instanceProfile = info["instanceProfile"]
        readOnlyAccessKeyId = info["readOnlyAccessKeyId"]
        readOnlySecretAccessKey = info["readOnlySecretAccessKey"]
    }

    /// The value localaws.py stored in the SecureString (derived from the key, so it is not written to disk).
    public var secureParameterValue: String { "Demo-Only-" + String(secretAccessKey.prefix(12)) }
}

public struct LocalAWSError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
    public static func missing(_ what: String) -> LocalAWSError { LocalAWSError(what) }
}

private final class LockedSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var value: LocalAWS?
    func withLock<T>(_ body: (inout LocalAWS?) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
