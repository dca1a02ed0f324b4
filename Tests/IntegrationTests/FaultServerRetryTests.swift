import Testing
import Foundation
import AWSCore
import AWSHTTP
import AWSRetry
import AWSCredentials
import TestSupport

/// A local HTTP server that throttles, fails, drops connections and stalls on command (Tests/Fixtures/fault_server.py).
final class FaultServer: Sendable {
    let process: ManagedProcess
    let url: String
    let control: CurlTransport

    init() throws {
        guard TestEnvironment.hasPython else {
            throw ManagedProcessError.exited(TestEnvironment.python, log: "no Python venv: run scripts/setup.sh")
        }
        let port = TestEnvironment.freePort()
        process = try ManagedProcess(
            executable: TestEnvironment.python,
            arguments: [TestEnvironment.repoRoot.appendingPathComponent("Tests/Fixtures/fault_server.py").path,
                        "--port", String(port), "--exit-with-parent"],
            port: port)
        url = "http://127.0.0.1:\(port)"
        control = try CurlTransport()
    }

    deinit { control.shutdown() }

    /// Queues answers: each later request takes the next one; then `default`.
    func script(_ actions: [[String: Any]], default fallback: [String: Any]? = nil) async throws {
        var object: [String: Any] = ["script": actions]
        if let fallback { object["default"] = fallback }
        let response = try await control.execute(
            HTTPRequest(method: "POST", url: url + "/__control", headers: [HTTPHeader("Content-Type", "application/json")],
                        body: Array(try JSONSerialization.data(withJSONObject: object))),
            options: HTTPRequestOptions())
        #expect(response.status == 200)
    }

    func requestCount() async throws -> Int {
        let response = try await control.execute(HTTPRequest(method: "GET", url: url + "/__stats"), options: HTTPRequestOptions())
        let stats = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        return stats?["requests"] as? Int ?? -1
    }

    /// Clients of each protocol pointed at the server, with fast backoff so the tests do not wait for real.
    func clients(maxAttempts: Int = 4, attemptTimeout: Duration = .seconds(10), maxResponseBytes: Int = 32 << 20) throws -> (ssm: SSMClient, ec2: EC2Client, transport: CurlTransport) {
        let transport = try CurlTransport()
        let fast = BackoffSchedule(base: .milliseconds(20), maxBackoff: .milliseconds(100))
        let retry = try RetryStrategy(configuration: RetryConfiguration(
            maxAttempts: maxAttempts, backoff: fast, throttlingBackoff: fast,
            eventualConsistency: EventualConsistencyPolicy(backoff: fast, maxAttempts: 6)))
        var options = AWSClient.Options()
        options.attempt.timeout = attemptTimeout
        options.attempt.maxResponseBytes = maxResponseBytes
        let creds = StaticCredentialProvider(AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret-for-tests-only", source: "test"))
        func client(_ s: AWSService) throws -> AWSClient {
            AWSClient(service: s, endpoint: try AWSEndpoint(url), region: "us-east-1", credentials: creds,
                      transport: transport, retry: retry, options: options)
        }
        return (SSMClient(client: try client(.ssm)), EC2Client(client: try client(.ec2)), transport)
    }
}

func status(_ code: Int, _ body: String, headers: [String: String] = [:]) -> [String: Any] {
    ["action": "status", "code": code, "body": body, "headers": headers]
}

var ssmThrottle: [String: Any] {
    status(400, #"{"__type":"ThrottlingException","message":"Rate exceeded"}"#, headers: ["Content-Type": "application/x-amz-json-1.1"])
}
var ssmEmptyList: [String: Any] { status(200, #"{"Commands":[]}"#, headers: ["Content-Type": "application/x-amz-json-1.1"]) }
var ec2Throttle: [String: Any] { status(503, "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r-1</RequestID></Response>") }
var ec2Empty: [String: Any] { status(200, "<DescribeInstancesResponse><requestId>r</requestId><reservationSet/></DescribeInstancesResponse>") }

@Suite(.serialized) struct FaultServerRetryTests {
    @Test func ssmThrottlingIsRetriedUntilItPasses() async throws {
        let server = try FaultServer()
        let c = try server.clients()
        defer { c.transport.shutdown() }
        try await server.script([ssmThrottle, ssmThrottle, ssmEmptyList])
        let out = try await c.ssm.listCommands()
        #expect(out.commands.isEmpty)
        #expect(try await server.requestCount() == 3)
    }

    @Test func ec2RequestLimitExceededIsRetried() async throws {
        let server = try FaultServer()
        let c = try server.clients()
        defer { c.transport.shutdown() }
        try await server.script([ec2Throttle, ec2Throttle, ec2Empty])
        let page = try await c.ec2.describeInstances()
        #expect(page.reservations.isEmpty)
        #expect(try await server.requestCount() == 3)
    }

    @Test func serverErrorsAreRetriedThenSurfaceWithTheirCode() async throws {
        let server = try FaultServer()
        let c = try server.clients(maxAttempts: 3)
        defer { c.transport.shutdown() }
        try await server.script([], default: status(500, #"{"__type":"InternalServerError","message":"boom"}"#))
        do {
            _ = try await c.ssm.listCommands()
            Issue.record("succeeded against a failing server")
        } catch let error as AWSError {
            #expect(error.code == "InternalServerError")
            #expect(error.attempts == 3)
        }
        #expect(try await server.requestCount() == 3)
    }

    @Test func droppedConnectionsAreRetried() async throws {
        let server = try FaultServer()
        let c = try server.clients()
        defer { c.transport.shutdown() }
        try await server.script([["action": "drop"], ["action": "reset"], ssmEmptyList], default: ["action": "drop"])
        let out = try await c.ssm.listCommands()
        #expect(out.commands.isEmpty)
    }

    @Test func aSlowAnswerTimesOutTheAttemptAndTheRetryPasses() async throws {
        let server = try FaultServer()
        let c = try server.clients(attemptTimeout: .milliseconds(700))
        defer { c.transport.shutdown() }
        try await server.script([["action": "slow", "delay": 30.0, "then": ssmEmptyList], ssmEmptyList])
        let started = ContinuousClock.now
        let out = try await c.ssm.listCommands()
        #expect(out.commands.isEmpty)
        #expect(ContinuousClock.now - started < .seconds(25), "the stalled attempt was abandoned, not waited out")
    }

    @Test func clientErrorsAreNotRetried() async throws {
        let server = try FaultServer()
        let c = try server.clients()
        defer { c.transport.shutdown() }
        try await server.script([status(400, #"{"__type":"ValidationException","message":"1 validation error"}"#)])
        await #expect(throws: AWSError.self) { _ = try await c.ssm.listCommands() }
        #expect(try await server.requestCount() == 1)
    }

    @Test func aProxysHTMLErrorIsReportedNotParsed() async throws {
        let server = try FaultServer()
        let c = try server.clients(maxAttempts: 1)
        defer { c.transport.shutdown() }
        try await server.script([status(502, "<html>proxy error</html>")])
        do {
            _ = try await c.ssm.listCommands()
            Issue.record("a proxy's HTML error passed")
        } catch let error as AWSError {
            #expect(error.code == "HTTP502")
            #expect(error.message.contains("proxy error"))
        }
    }

    @Test func hugeBodiesAreRefusedNotBufferedOrRetried() async throws {
        let server = try FaultServer()
        let c = try server.clients(maxResponseBytes: 1 << 20)
        defer { c.transport.shutdown() }
        try await server.script([["action": "big", "bytes": 8_000_000]])
        do {
            _ = try await c.ssm.listCommands()
            Issue.record("an 8 MB answer passed a 1 MB limit")
        } catch let error as AWSError {
            #expect(error.kind == .transport)
            #expect(error.transportKind == .responseTooLarge)
            #expect(error.attempts == 1)
        }
    }

    @Test func unreachableEndpointFailsClearlyWithoutHanging() async throws {
        let port = TestEnvironment.freePort()
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        let fast = BackoffSchedule(base: .milliseconds(10), maxBackoff: .milliseconds(20))
        let client = AWSClient(service: .ssm, endpoint: try AWSEndpoint("http://127.0.0.1:\(port)"), region: "us-east-1",
                               credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: "AK", secretAccessKey: "SK", source: "t")),
                               transport: transport,
                               retry: try RetryStrategy(configuration: RetryConfiguration(maxAttempts: 2, backoff: fast)))
        do {
            _ = try await SSMClient(client: client).listCommands()
            Issue.record("reached a closed port")
        } catch let error as AWSError {
            #expect(error.kind == .transport)
            #expect(error.transportKind == .connect)
            #expect(error.description.contains("127.0.0.1:\(port)"))
        }
    }
}
