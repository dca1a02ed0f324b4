import AWSHTTP
import Foundation
import Testing

/// Requests that succeed: what goes out arrives exactly, what comes back is complete, connections are reused.
@Suite(.timeLimit(.minutes(2)))
struct CurlExchangeTests {
    @Test func getSendsHeadersAndQueryExactly() async throws {
        let server = try FaultServer()
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(userAgent: "clonectl-test/1"))
        defer { transport.shutdown() }
        let response = try await transport.execute(HTTPRequest(
            method: "GET", url: server.url("/a/b%2Fc?x=1&y=%20z"),
            headers: [HTTPHeader("X-Amz-Date", "20260101T000000Z"), HTTPHeader("X-Empty", "")]),
            options: HTTPRequestOptions())
        #expect(response.status == 200)
        #expect(response.header("content-type") == "application/json")
        let echo = try Echo.decode(response)
        #expect(echo.method == "GET")
        #expect(echo.path == "/a/b%2Fc")
        #expect(echo.query == "x=1&y=%20z")
        #expect(echo.headers["x-amz-date"] == "20260101T000000Z")
        #expect(echo.headers["x-empty"] == "")
        #expect(echo.headers["user-agent"] == "clonectl-test/1")
        #expect(!echo.headerNames.contains("content-type"))
        #expect(!echo.headerNames.contains("expect"))
        #expect(echo.bodyLength == 0)
    }

    @Test func binaryBodyWithZeroBytesArrivesWhole() async throws {
        let server = try FaultServer()
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        let body: [UInt8] = [0, 1, 0, 0, 255, 0, 10, 13, 0]
        let response = try await transport.execute(HTTPRequest(
            method: "POST", url: server.url("/bin"),
            headers: [HTTPHeader("Content-Type", "application/octet-stream")], body: body),
            options: HTTPRequestOptions())
        let echo = try Echo.decode(response)
        #expect(echo.method == "POST")
        #expect(echo.bodyBytes == body)
        #expect(echo.headers["content-type"] == "application/octet-stream")
        #expect(echo.headers["content-length"] == "\(body.count)")
    }

    @Test func bodyWithoutContentTypeGetsNoFormType() async throws {
        let server = try FaultServer()
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        let response = try await transport.execute(
            HTTPRequest(method: "POST", url: server.url("/"), body: Array("Action=X".utf8)),
            options: HTTPRequestOptions())
        let echo = try Echo.decode(response)
        #expect(!echo.headerNames.contains("content-type"), "curl's form Content-Type leaked: \(echo.rawHeaders)")
        #expect(echo.bodyBytes == Array("Action=X".utf8))
    }

    @Test func largeBodyIsSentWithoutExpectContinue() async throws {
        let server = try FaultServer()
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        let body = (0..<1_500_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let response = try await transport.execute(HTTPRequest(
            method: "PUT", url: server.url("/big"),
            headers: [HTTPHeader("Content-Type", "application/x-amz-json-1.1")], body: body),
            options: HTTPRequestOptions())
        let echo = try Echo.decode(response)
        #expect(echo.method == "PUT")
        #expect(echo.bodyLength == body.count)
        #expect(echo.bodyBytes == body)
        #expect(!echo.headerNames.contains("expect"))
    }

    @Test func putDeleteAndHeadUseTheirMethods() async throws {
        let server = try FaultServer()
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        let put = try Echo.decode(try await transport.execute(
            HTTPRequest(method: "PUT", url: server.url("/p")), options: HTTPRequestOptions()))
        #expect(put.method == "PUT")
        #expect(put.headers["content-length"] == "0")
        let delete = try Echo.decode(try await transport.execute(
            HTTPRequest(method: "DELETE", url: server.url("/d")), options: HTTPRequestOptions()))
        #expect(delete.method == "DELETE")
        #expect(delete.bodyLength == 0)
        let head = try await transport.execute(HTTPRequest(method: "HEAD", url: server.url("/h")),
                                               options: HTTPRequestOptions())
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        #expect(Int(head.header("Content-Length") ?? "") ?? 0 > 0)
    }

    @Test func statusHeadersAndBodyComeBack() async throws {
        let server = try FaultServer()
        try await server.script("""
            {"script": [{"action": "status", "code": 503, "body": "SlowDown",
                         "headers": {"X-Amzn-RequestId": "req-1", "Retry-After": "2"}},
                        {"action": "status", "code": 404, "body": ""}]}
            """)
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        let first = try await transport.execute(HTTPRequest(method: "GET", url: server.url("/")),
                                                options: HTTPRequestOptions())
        #expect(first.status == 503)
        #expect(first.header("x-amzn-requestid") == "req-1")
        #expect(first.header("RETRY-AFTER") == "2")
        #expect(String(decoding: first.body, as: UTF8.self) == "SlowDown")
        #expect(!first.headers.contains { $0.name.hasPrefix("HTTP/") })
        let second = try await transport.execute(HTTPRequest(method: "GET", url: server.url("/")),
                                                 options: HTTPRequestOptions())
        #expect(second.status == 404)
        #expect(second.body.isEmpty)
        #expect(second.header("x-amzn-requestid") == nil)
    }

    @Test func interimResponseHeadersAreDropped() async throws {
        let server = try FaultServer()
        try await server.script(#"{"script": [{"action": "interim", "code": 102, "headers": {"X-Interim": "1"},"then": {"action": "status", "code": 201, "headers": {"X-Final": "yes"}}}]}"#)
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        let response = try await transport.execute(HTTPRequest(method: "GET", url: server.url("/i")),
                                                   options: HTTPRequestOptions())
        #expect(response.status == 201)
        #expect(response.header("X-Final") == "yes")
        #expect(response.header("X-Interim") == nil, "interim headers leaked: \(response.headers)")
    }

    @Test func sequentialRequestsReuseConnections() async throws {
        let server = try FaultServer()
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        for i in 0..<200 {
            let response = try await transport.execute(HTTPRequest(method: "GET", url: server.url("/seq/\(i)")),
                                                       options: HTTPRequestOptions())
            #expect(response.status == 200)
        }
        let stats = try await server.stats()
        #expect(stats.requests == 200)
        // The readiness probe, the control transport, and one (rarely two) for the 200 requests.
        #expect(stats.connections <= 4, "200 sequential requests opened \(stats.connections) connections")
    }

    @Test func fiftyConcurrentRequestsAllComplete() async throws {
        let server = try FaultServer()
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(maxConnectionsPerHost: 8))
        defer { transport.shutdown() }
        let paths = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<50 {
                group.addTask {
                    let response = try await transport.execute(
                        HTTPRequest(method: "POST", url: server.url("/c/\(i)"), body: Array("n=\(i)".utf8)),
                        options: HTTPRequestOptions())
                    let echo = try Echo.decode(response)
                    #expect(echo.bodyBytes == Array("n=\(i)".utf8))
                    return echo.path
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(paths == Set((0..<50).map { "/c/\($0)" }))
        let stats = try await server.stats()
        #expect(stats.requests == 50)
        // 8 per host, plus the control connection and ManagedProcess's readiness probe. Without the limit and
        // reuse this would be ~50.
        #expect(stats.connections <= 8 + 2, "maxConnectionsPerHost 8 was exceeded: \(stats.connections)")
    }
}
