import AWSHTTP
import Foundation
import Testing
import TestSupport

/// Requests that fail below HTTP: each must end with the right kind, promptly, and never hang.
/// The time bounds are deliberately loose ("did not wait for the server"), not speed checks.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct CurlFailureTests {
    @Test func slowServerTimesOut() async throws {
        let server = try FaultServer()
        // A 30 s stall, so "promptly" below has room for a loaded machine and still proves the abort.
        try await server.script(#"{"script": [{"action": "slow", "delay": 30}]}"#)
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        let start = ContinuousClock.now
        let error = await transportError {
            try await transport.execute(HTTPRequest(method: "GET", url: server.url("/slow")),
                                        options: HTTPRequestOptions(timeout: .milliseconds(500)))
        }
        #expect(error?.kind == .timeout)
        #expect(error?.curlCode == 28)
        #expect(seconds(since: start) < 20)
    }

    @Test(arguments: ["drop", "reset"])
    func brokenConnectionIsEmptyReplyOrReceiveError(action: String) async throws {
        let server = try FaultServer()
        // A fresh transport, so a fresh connection: curl silently re-sends once only when a *reused*
        // connection dies before answering.
        try await server.script(#"{"script": [{"action": "\#(action)"}]}"#)
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        let error = await transportError {
            try await transport.execute(HTTPRequest(method: "POST", url: server.url("/drop"), body: [1, 2, 3]),
                                        options: HTTPRequestOptions())
        }
        #expect(error?.kind == .emptyReply || error?.kind == .sendReceive, "got \(String(describing: error))")
        // The transport is still usable afterwards.
        let ok = try await transport.execute(HTTPRequest(method: "GET", url: server.url("/after")),
                                             options: HTTPRequestOptions())
        #expect(ok.status == 200)
    }

    @Test func refusedConnectionIsConnectError() async throws {
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        let port = TestEnvironment.freePort() // free a moment ago: nothing listens there
        let error = await transportError {
            try await transport.execute(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/x"),
                                        options: HTTPRequestOptions())
        }
        #expect(error?.kind == .connect)
        #expect(error?.curlCode == 7)
    }

    @Test func unresolvableHostIsResolveError() async throws {
        let transport = try CurlTransport()
        // Shutting down waits for curl's resolver thread, which can take the resolver's own timeouts on a machine
        // without DNS: do it off the test's thread so it cannot hold up other tests.
        defer { Thread.detachNewThread { transport.shutdown() } }
        // The attempt's own timeout bounds it: a hang would surface as .timeout and fail the check below.
        let error = await transportError {
            try await transport.execute(HTTPRequest(method: "GET", url: "https://nonexistent.invalid/"),
                                        options: HTTPRequestOptions(timeout: .seconds(90)))
        }
        #expect(error?.kind == .resolve, "got \(String(describing: error))")
    }

    @Test(arguments: [false, true])
    func oversizedResponseIsRejected(chunked: Bool) async throws {
        let server = try FaultServer()
        try await server.script(#"{"script": [{"action": "big", "bytes": 3000000, "chunked": \#(chunked)}]}"#)
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        let error = await transportError {
            try await transport.execute(HTTPRequest(method: "GET", url: server.url("/big")),
                                        options: HTTPRequestOptions(maxResponseBytes: 1 << 20))
        }
        #expect(error?.kind == .responseTooLarge, "got \(String(describing: error))")
        // Exactly at the limit is fine.
        try await server.script(#"{"script": [{"action": "big", "bytes": 1048576, "chunked": \#(chunked)}]}"#)
        let ok = try await transport.execute(HTTPRequest(method: "GET", url: server.url("/big")),
                                             options: HTTPRequestOptions(maxResponseBytes: 1 << 20))
        #expect(ok.body.count == 1 << 20)
    }

    @Test func cancellingTheTaskAbortsTheRequest() async throws {
        let server = try FaultServer()
        // A 30 s stall, so "promptly" below has room for a loaded machine and still proves the abort.
        try await server.script(#"{"script": [{"action": "slow", "delay": 30}]}"#)
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        let task = Task {
            try await transport.execute(HTTPRequest(method: "GET", url: server.url("/slow?token=abc")),
                                        options: HTTPRequestOptions())
        }
        try await Task.sleep(for: .milliseconds(300))
        let start = ContinuousClock.now
        task.cancel()
        let error = await transportError { try await task.value }
        #expect(error?.kind == .cancelled)
        #expect(error?.url == server.url("/slow"))
        #expect(seconds(since: start) < 20)
        let ok = try await transport.execute(HTTPRequest(method: "GET", url: server.url("/next")),
                                             options: HTTPRequestOptions())
        #expect(ok.status == 200)
    }

    @Test func alreadyCancelledTaskNeverSends() async throws {
        let server = try FaultServer()
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await transport.execute(HTTPRequest(method: "GET", url: server.url("/never")),
                                               options: HTTPRequestOptions())
        }
        let error = await transportError { try await task.value }
        #expect(error?.kind == .cancelled)
        #expect(try await server.stats().requests == 0)
    }

    @Test func shutdownFailsInFlightAndLaterRequests() async throws {
        let server = try FaultServer()
        try await server.script(#"{"default": {"action": "slow", "delay": 30}}"#)
        let transport = try CurlTransport()
        let tasks = (0..<3).map { i in
            Task { try await transport.execute(HTTPRequest(method: "GET", url: server.url("/s/\(i)")),
                                               options: HTTPRequestOptions()) }
        }
        try await Task.sleep(for: .milliseconds(300))
        let start = ContinuousClock.now
        transport.shutdown()
        for task in tasks {
            let error = await transportError { try await task.value }
            #expect(error?.kind == .cancelled)
        }
        #expect(seconds(since: start) < 20)
        let late = await transportError {
            try await transport.execute(HTTPRequest(method: "GET", url: server.url("/late")),
                                        options: HTTPRequestOptions())
        }
        #expect(late?.kind == .cancelled)
        transport.shutdown() // a second call is harmless
    }

    @Test func errorsNeverShowTheQuery() async throws {
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        let port = TestEnvironment.freePort()
        let error = await transportError {
            try await transport.execute(
                HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/p?X-Amz-Signature=SECRETSIG&a=b"),
                options: HTTPRequestOptions())
        }
        #expect(error?.url == "http://127.0.0.1:\(port)/p")
        #expect(error.map { !"\($0)".contains("SECRETSIG") } == true)
    }

    @Test(arguments: [
        HTTPRequest(method: "GET", url: "/relative"),
        HTTPRequest(method: "GET", url: "ftp://host/file"),
        HTTPRequest(method: "GET", url: "http://host/a b"),
        HTTPRequest(method: "GE T", url: "http://host/"),
        HTTPRequest(method: "GET", url: "http://host/", headers: [HTTPHeader("X-A", "1\r\nInjected: yes")]),
        HTTPRequest(method: "GET", url: "http://host/", headers: [HTTPHeader("Bad Name", "1")]),
    ])
    func invalidRequestsAreRejectedBeforeCurl(request: HTTPRequest) async throws {
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        let error = await transportError { try await transport.execute(request, options: HTTPRequestOptions()) }
        #expect(error?.kind == .invalidRequest)
        #expect(error.map { !"\($0)".contains("Injected") } == true)
    }
}
