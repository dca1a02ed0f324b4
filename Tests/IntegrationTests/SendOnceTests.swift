import Testing
import Foundation
import AWSCore
import AWSHTTP
import TestSupport

/// A call that acts must not be sent twice behind the controller's back. libcurl re-sends a request by itself when a
/// reused keep-alive connection dies before any answer byte; these tests show that it does (so the test can fail),
/// that a `sendOnce` request never is, and that the drop reaches the pipeline's own handling as an unknown outcome.
@Suite(.serialized) struct SendOnceTests {
    static var echo: [String: Any] { ["action": "echo"] }
    static var sendCommandOK: [String: Any] {
        status(200, #"{"Command":{"CommandId":"11111111-2222-3333-4444-555555555555"}}"#,
               headers: ["Content-Type": "application/x-amz-json-1.1"])
    }
    static var ssm500: [String: Any] {
        status(500, #"{"__type":"InternalServerError","message":"boom"}"#, headers: ["Content-Type": "application/x-amz-json-1.1"])
    }
    static var input: SendCommandInput { SendCommandInput(instanceIds: ["i-0123456789abcdef0"], parameters: ["commands": ["x"]]) }

    /// One POST on the connection a warm-up GET left in curl's cache.
    func postOnReusedConnection(_ server: FaultServer, _ transport: CurlTransport, sendOnce: Bool) async throws -> HTTPResponse {
        _ = try await transport.execute(HTTPRequest(method: "GET", url: server.url + "/warm"), options: HTTPRequestOptions())
        return try await transport.execute(HTTPRequest(method: "POST", url: server.url + "/act", body: Array("x=1".utf8)),
                                           options: HTTPRequestOptions(sendOnce: sendOnce))
    }

    @Test func libcurlResendsADroppedPostOnAReusedConnection() async throws {
        let server = try FaultServer()
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        try await server.script([Self.echo, ["action": "drop"], Self.echo])
        let response = try await postOnReusedConnection(server, transport, sendOnce: false)
        // The drop was hidden: curl sent the POST a second time on a new connection and returned that answer.
        #expect(response.status == 200)
        #expect(try await server.requestCount() == 3, "warm-up, the dropped POST, and curl's own re-send")
    }

    @Test func aSendOnceRequestIsNeverResentByLibcurl() async throws {
        let server = try FaultServer()
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        try await server.script([Self.echo, ["action": "drop"], Self.echo])
        do {
            let response = try await postOnReusedConnection(server, transport, sendOnce: true)
            Issue.record("the dropped POST came back as HTTP \(response.status): it was sent again")
        } catch let error as HTTPTransportError {
            #expect(error.kind == .emptyReply, "\(error)")
        }
        #expect(try await server.requestCount() == 2, "warm-up and the one POST; nothing re-sent")
    }

    @Test func aDroppedSendCommandReachesThePipelineAsAnUnknownOutcome() async throws {
        let server = try FaultServer()
        let c = try server.clients()
        defer { c.transport.shutdown() }
        try await server.script([ssmEmptyList, ["action": "drop"]], default: Self.sendCommandOK)
        _ = try await c.ssm.listCommands() // leaves a keep-alive connection for curl to reuse
        do {
            _ = try await c.ssm.sendCommand(Self.input)
            Issue.record("SendCommand succeeded: it was sent again after its answer was lost")
        } catch let error as AWSError {
            #expect(error.outcomeUnknown, "\(error)")
            #expect(error.kind == .transport)
            #expect(error.attempts == 1)
        }
        #expect(try await server.requestCount() == 2, "the list and the one SendCommand; no re-send by curl or the retry strategy")
    }

    @Test func aSendCommandRefusedForItsRateIsSentAgain() async throws {
        let server = try FaultServer()
        let c = try server.clients()
        defer { c.transport.shutdown() }
        try await server.script([ssmThrottle, Self.sendCommandOK])
        let command = try await c.ssm.sendCommand(Self.input)
        #expect(command.commandId == "11111111-2222-3333-4444-555555555555")
        #expect(try await server.requestCount() == 2)
    }

    @Test func aServerErrorOnSendCommandIsNotRepeated() async throws {
        let server = try FaultServer()
        let c = try server.clients()
        defer { c.transport.shutdown() }
        try await server.script([Self.ssm500], default: Self.sendCommandOK)
        do {
            _ = try await c.ssm.sendCommand(Self.input)
            Issue.record("a 500 on SendCommand was retried blindly")
        } catch let error as AWSError {
            #expect(error.code == "InternalServerError")
            #expect(error.outcomeUnknown)
        }
        #expect(try await server.requestCount() == 1)
    }

    @Test func aDroppedCreateImageIsNotRepeated() async throws {
        let server = try FaultServer()
        let c = try server.clients()
        defer { c.transport.shutdown() }
        try await server.script([ec2Empty, ["action": "drop"]],
                                default: status(200, "<CreateImageResponse><imageId>ami-12345678</imageId></CreateImageResponse>"))
        _ = try await c.ec2.describeInstances()
        do {
            _ = try await c.ec2.createImage(instanceId: "i-0123456789abcdef0", name: "n")
            Issue.record("CreateImage was sent again after its answer was lost")
        } catch let error as AWSError {
            #expect(error.outcomeUnknown, "\(error)")
        }
        #expect(try await server.requestCount() == 2)
    }

    @Test func aStopWhoseAnswerIsLostIsConfirmedNotResent() async throws {
        let server = try FaultServer()
        let c = try server.clients()
        defer { c.transport.shutdown() }
        let stopped = status(200, """
            <DescribeInstancesResponse><reservationSet><item><reservationId>r-1</reservationId><instancesSet><item>\
            <instanceId>i-0123456789abcdef0</instanceId><instanceState><code>64</code><name>stopping</name></instanceState>\
            </item></instancesSet></item></reservationSet></DescribeInstancesResponse>
            """)
        try await server.script([["action": "drop"], stopped],
                                default: status(500, "<Response><Errors><Error><Code>Unexpected</Code><Message>a second StopInstances</Message></Error></Errors></Response>"))
        let changes = try await c.ec2.stopInstances(["i-0123456789abcdef0"])
        #expect(changes.map(\.currentState) == ["stopping"])
        #expect(try await server.requestCount() == 2, "StopInstances once, then DescribeInstances to see it took effect")
    }
}
