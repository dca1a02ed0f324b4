import AWSHTTP
import Foundation
import Testing
import TestSupport

/// Tests/Fixtures/fault_server.py on a fresh port, one per test so scripts and counters never mix.
/// Control calls go through their own transport, so they add one connection to the stats; ManagedProcess's
/// readiness probe adds another.
final class FaultServer: Sendable {
    let process: ManagedProcess
    let port: Int
    private let control: CurlTransport

    init() throws {
        guard TestEnvironment.hasPython else {
            throw FaultServerError(
                "Python not found at \(TestEnvironment.python): set CLONECTL_PYTHON to a Python 3 interpreter")
        }
        port = TestEnvironment.freePort()
        let script = TestEnvironment.repoRoot.appendingPathComponent("Tests/Fixtures/fault_server.py").path
        process = try ManagedProcess(executable: TestEnvironment.python, arguments: [script, "--port", "\(port)"],
                                     port: port, readyTimeout: 30)
        control = try CurlTransport()
    }

    deinit {
        control.shutdown()
        process.stop()
    }

    func url(_ pathAndQuery: String) -> String { "http://127.0.0.1:\(port)\(pathAndQuery)" }

    /// Installs a script, given as the JSON text of /__control (see the server's docstring).
    func script(_ json: String) async throws {
        let response = try await control.execute(
            HTTPRequest(method: "POST", url: url("/__control"), headers: [HTTPHeader("Content-Type", "application/json")],
                        body: Array(json.utf8)), options: HTTPRequestOptions())
        guard response.status == 200 else {
            throw FaultServerError("fault server rejected the script: \(String(decoding: response.body, as: UTF8.self))")
        }
    }

    struct Stats: Decodable { var requests: Int; var connections: Int }

    func stats() async throws -> Stats {
        let response = try await control.execute(HTTPRequest(method: "GET", url: url("/__stats")),
                                                 options: HTTPRequestOptions())
        return try JSONDecoder().decode(Stats.self, from: Data(response.body))
    }
}

struct FaultServerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// What the server's `echo` action reports about the request it received.
struct Echo: Decodable {
    var method: String
    var path: String
    var query: String
    var headers: [String: String]
    var rawHeaders: [[String]]
    var body: String
    var bodyLength: Int
    var bodySha256: String

    var bodyBytes: [UInt8] { Array(Data(base64Encoded: body) ?? Data()) }
    var headerNames: [String] { rawHeaders.compactMap { $0.first?.lowercased() } }

    static func decode(_ response: HTTPResponse) throws -> Echo {
        try JSONDecoder().decode(Echo.self, from: Data(response.body))
    }
}

/// Runs `operation`, which must fail with an HTTPTransportError; records an issue otherwise.
func transportError(_ operation: () async throws -> HTTPResponse) async -> HTTPTransportError? {
    do {
        let response = try await operation()
        Issue.record("expected a transport error, got HTTP \(response.status)")
    } catch let error as HTTPTransportError {
        return error
    } catch {
        Issue.record("expected an HTTPTransportError, got \(error)")
    }
    return nil
}

/// Seconds elapsed since `start`, for the generous "it did not hang" bounds.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}
