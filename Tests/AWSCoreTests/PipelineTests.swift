import Testing
import Foundation
import Synchronization
import AWSHTTP
import AWSRetry
import AWSCredentials
@testable import AWSCore

/// A transport that plays back scripted answers and records what it was sent.
final class ScriptedTransport: HTTPTransport, Sendable {
    enum Answer: Sendable { case response(Int, String, [HTTPHeader]), failure(HTTPTransportError.Kind) }
    private let state: Mutex<(answers: [Answer], sent: [HTTPRequest])>

    init(_ answers: [Answer]) { state = Mutex((answers, [])) }

    var sent: [HTTPRequest] { state.withLock { $0.sent } }

    func execute(_ request: HTTPRequest, options: HTTPRequestOptions) async throws -> HTTPResponse {
        let answer: Answer = state.withLock { s in
            s.sent.append(request)
            return s.answers.isEmpty ? .response(200, "{}", []) : s.answers.removeFirst()
        }
        switch answer {
        case .response(let status, let body, let headers):
            return HTTPResponse(status: status, headers: headers, body: Array(body.utf8))
        case .failure(let kind):
            throw HTTPTransportError(kind: kind, message: "scripted \(kind)", url: request.url)
        }
    }
}

/// A retry strategy that never sleeps for real.
struct InstantClock: RetryClock {
    func now() -> Double { 0 }
    func sleep(for duration: Duration) async throws {}
}

func makeClient(_ service: AWSService, _ transport: ScriptedTransport, maxAttempts: Int = 3,
                token: String? = nil, clock: @escaping @Sendable () -> Date = { Date() }) throws -> AWSClient {
    var config = RetryConfiguration()
    config.maxAttempts = maxAttempts
    var options = AWSClient.Options()
    options.clock = clock
    return AWSClient(service: service, endpoint: try AWSEndpoint("https://\(service.id).us-east-1.amazonaws.com"),
                     region: "us-east-1",
                     credentials: StaticCredentialProvider(AWSCredentials(
                        accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                        sessionToken: token, source: "test")),
                     transport: transport, retry: try RetryStrategy(configuration: config, clock: InstantClock()),
                     options: options)
}

@Suite struct PipelineTests {
    static let throttled = ScriptedTransport.Answer.response(400, #"{"__type":"ThrottlingException","message":"Rate exceeded"}"#, [])

    @Test func throttlingIsRetriedAndEveryAttemptIsSignedAfresh() async throws {
        let transport = ScriptedTransport([Self.throttled, Self.throttled,
                                           .response(200, #"{"Command":{"CommandId":"c-1"}}"#, [])])
        let seconds = Mutex(0.0)
        let client = try makeClient(.ssm, transport, clock: {
            // Each signing sees a later time, as real retries would.
            Date(timeIntervalSince1970: 1_700_000_000 + seconds.withLock { $0 += 1; return $0 })
        })
        let command = try await SSMClient(client: client).sendCommand(SendCommandInput(instanceIds: ["i-1"], parameters: ["commands": ["x"]]))
        #expect(command.commandId == "c-1")
        let sent = transport.sent
        #expect(sent.count == 3)
        let auth = sent.map { $0.headers.first { $0.name.lowercased() == "authorization" }?.value ?? "" }
        #expect(Set(auth).count == 3, "each attempt carries its own signature")
        #expect(sent.allSatisfy { $0.headers.contains(HTTPHeader("X-Amz-Target", "AmazonSSM.SendCommand")) })
        #expect(sent.allSatisfy { req in !req.headers.contains { $0.name.lowercased() == "authorization" && $0.value.contains("user-agent") } })
    }

    @Test func clientErrorsAreNotRetried() async throws {
        let transport = ScriptedTransport([.response(400, #"{"__type":"InvalidInstanceId","message":"no"}"#, [])])
        let client = try makeClient(.ssm, transport)
        await #expect(throws: AWSError.self) {
            _ = try await SSMClient(client: client).sendCommand(SendCommandInput(instanceIds: ["i-1"], parameters: [:]))
        }
        #expect(transport.sent.count == 1)
    }

    @Test func retriesStopAtMaxAttemptsWithTheLastError() async throws {
        let transport = ScriptedTransport(Array(repeating: .response(503, "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>slow down</Message></Error></Errors><RequestID>r</RequestID></Response>", []), count: 10))
        let client = try makeClient(.ec2, transport, maxAttempts: 4)
        do {
            _ = try await EC2Client(client: client).describeInstances()
            Issue.record("succeeded against a service that always throttles")
        } catch let error as AWSError {
            #expect(error.code == "RequestLimitExceeded")
            #expect(error.attempts == 4)
            #expect(error.httpStatus == 503)
        }
        #expect(transport.sent.count == 4)
    }

    @Test func transportFailuresAreRetried() async throws {
        let transport = ScriptedTransport([.failure(.emptyReply), .failure(.timeout),
                                           .response(200, "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/x</Arn><UserId>U</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>", [])])
        let id = try await STSClient(client: try makeClient(.sts, transport)).getCallerIdentity()
        #expect(id.account == "123456789012")
        #expect(transport.sent.count == 3)
    }

    @Test func eventualConsistencyIsRetriedForGetCommandInvocationOnly() async throws {
        let notYet = ScriptedTransport.Answer.response(400, #"{"__type":"InvocationDoesNotExist"}"#, [])
        let transport = ScriptedTransport([notYet, notYet, notYet, notYet,
                                           .response(200, #"{"CommandId":"c","InstanceId":"i","Status":"InProgress","ResponseCode":-1}"#, [])])
        let out = try await SSMClient(client: try makeClient(.ssm, transport)).getCommandInvocation(commandId: "c", instanceId: "i")
        #expect(out.invocationStatus == .inProgress)
        #expect(transport.sent.count == 5, "eventual consistency has its own, larger attempt budget")

        let other = ScriptedTransport([notYet])
        await #expect(throws: AWSError.self) {
            _ = try await SSMClient(client: try makeClient(.ssm, other)).listCommands()
        }
        #expect(other.sent.count == 1)
    }

    @Test func sessionTokenIsSentButNeverInErrors() async throws {
        let token = "FQoGZXIvYXdzEXAMPLETOKENVALUE0123456789"
        let transport = ScriptedTransport([.response(403, "{\"__type\":\"InvalidSignatureException\",\"message\":\"canonical had x-amz-security-token:\(token)\"}", [])])
        let client = try makeClient(.ssm, transport, token: token)
        do {
            _ = try await SSMClient(client: client).listCommands()
        } catch let error as AWSError {
            #expect(!error.description.contains(token))
            #expect(!"\(error)".contains("wJalrXUtnFEMI"))
        }
        #expect(transport.sent.first?.headers.contains(HTTPHeader("X-Amz-Security-Token", token)) == true
                || transport.sent.first?.headers.contains(HTTPHeader("x-amz-security-token", token)) == true)
    }

    @Test func skewedClockIsCorrectedOnce() async throws {
        let serverNow = Date(timeIntervalSince1970: 1_800_000_000)
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let skewed = ScriptedTransport.Answer.response(400, #"{"__type":"InvalidSignatureException","message":"Signature expired"}"#,
                                                       [HTTPHeader("Date", f.string(from: serverNow))])
        let transport = ScriptedTransport([skewed, .response(200, #"{"Commands":[]}"#, [])])
        // Our clock is an hour behind the service's.
        let client = try makeClient(.ssm, transport, clock: { serverNow.addingTimeInterval(-3600) })
        _ = try await SSMClient(client: client).listCommands()
        let dates = transport.sent.compactMap { $0.headers.first { $0.name.lowercased() == "x-amz-date" }?.value }
        #expect(dates.count == 2)
        #expect(dates.last?.hasPrefix("20270115") == true, "second attempt signed with the service's time: \(dates)")
    }

    @Test func malformedSuccessBodyIsAClearError() async throws {
        let transport = ScriptedTransport([.response(200, "<html>captive portal</html>", [])])
        do {
            _ = try await SSMClient(client: try makeClient(.ssm, transport)).listCommands()
            Issue.record("decoded HTML as JSON")
        } catch let error as AWSError {
            #expect(error.kind == .malformedResponse)
            #expect(!error.message.contains("captive portal"), "a successful answer's body is never quoted")
            #expect(error.message.contains("not JSON"))
        }
    }

    @Test func paginationFollowsNextTokenAndStopsOnARepeat() async throws {
        func page(_ ids: [String], next: String?) -> ScriptedTransport.Answer {
            let items = ids.map { "<item><reservationId>r</reservationId><instancesSet><item><instanceId>\($0)</instanceId><instanceState><code>16</code><name>running</name></instanceState></item></instancesSet></item>" }
            return .response(200, "<DescribeInstancesResponse><reservationSet>\(items.joined())</reservationSet>\(next.map { "<nextToken>\($0)</nextToken>" } ?? "")</DescribeInstancesResponse>", [])
        }
        let transport = ScriptedTransport([page(["i-1", "i-2"], next: "t1"), page(["i-3"], next: "t2"), page(["i-4"], next: nil)])
        let all = try await EC2Client(client: try makeClient(.ec2, transport)).describeAllInstances(pageSize: 5)
        #expect(all.map(\.instanceId) == ["i-1", "i-2", "i-3", "i-4"])
        let bodies = transport.sent.map { String(decoding: $0.body, as: UTF8.self) }
        #expect(bodies[0].contains("MaxResults=5") && !bodies[0].contains("NextToken"))
        #expect(bodies[1].contains("NextToken=t1"))
        #expect(bodies[2].contains("NextToken=t2"))

        let looping = ScriptedTransport([page(["i-1"], next: "same"), page(["i-2"], next: "same")])
        await #expect(throws: AWSError.self) {
            _ = try await EC2Client(client: try makeClient(.ec2, looping)).describeAllInstances()
        }
        #expect(looping.sent.count == 2)
    }

    @Test func createImageIsNotRepeatedWhenItsAnswerMayHaveBeenLost() async throws {
        let lost = ScriptedTransport([.failure(.emptyReply), .response(200, "<CreateImageResponse><imageId>ami-2</imageId></CreateImageResponse>", [])])
        await #expect(throws: AWSError.self) {
            _ = try await EC2Client(client: try makeClient(.ec2, lost)).createImage(instanceId: "i-1", name: "n")
        }
        #expect(lost.sent.count == 1, "a second CreateImage could make a second AMI")
        // A refused connection never reached EC2: retrying is safe.
        let refused = ScriptedTransport([.failure(.connect), .response(200, "<CreateImageResponse><imageId>ami-3</imageId></CreateImageResponse>", [])])
        let id = try await EC2Client(client: try makeClient(.ec2, refused)).createImage(instanceId: "i-1", name: "n")
        #expect(id == "ami-3")
        #expect(refused.sent.count == 2)
    }

    @Test func commandLimitsAreCheckedBeforeSending() async throws {
        let transport = ScriptedTransport([])
        let ssm = SSMClient(client: try makeClient(.ssm, transport))
        let ids = (0..<51).map { "i-\($0)" }
        await #expect(throws: AWSError.self) { _ = try await ssm.sendCommand(SendCommandInput(instanceIds: ids, parameters: [:])) }
        await #expect(throws: AWSError.self) { _ = try await ssm.sendCommand(SendCommandInput(instanceIds: ["i-1"], parameters: [:], timeoutSeconds: 10)) }
        #expect(transport.sent.isEmpty)
    }
}
