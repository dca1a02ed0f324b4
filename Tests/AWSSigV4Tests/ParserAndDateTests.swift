import AWSSigV4
import Foundation
import Testing

@Suite struct RawRequestParserTests {
    @Test func parsesLineFoldingCRLFAndBody() throws {
        let text = "POST /a%20b/c d?x=1&y HTTP/1.1\r\nHost: h\r\nX-Multi: one\r\n  two\r\n\tthree\r\nEmpty:\r\n\r\nbody\r\nline"
        let request = try SigV4.parseRawHTTPRequest(text)
        #expect(request.method == "POST")
        #expect(request.path == "/a%20b/c d")
        #expect(request.query == "x=1&y")
        #expect(request.headers == [SigV4Header(name: "Host", value: "h"),
                                    SigV4Header(name: "X-Multi", value: "one two three"),
                                    SigV4Header(name: "Empty", value: "")])
        #expect(request.body == Array("body\r\nline".utf8))
    }

    @Test func noBlankLineMeansNoBody() throws {
        let request = try SigV4.parseRawHTTPRequest("GET / HTTP/1.1\nHost:h")
        #expect(request.body.isEmpty)
        #expect(request.headers == [SigV4Header(name: "Host", value: "h")])
    }

    @Test(arguments: [
        ("", SigV4ParseError.empty),
        ("\n\n", .empty),
        ("GET /", .malformedRequestLine(line: "GET /")),
        ("GET / FTP/1.0\n", .malformedRequestLine(line: "GET / FTP/1.0")),
        ("G(T / HTTP/1.1\n", .malformedRequestLine(line: "G(T / HTTP/1.1")),
        ("GET http://h/ HTTP/1.1\n", .targetNotOriginForm(target: "http://h/")),
        ("GET / HTTP/1.1\n continued\n", .continuationWithoutHeader(lineNumber: 2)),
        ("GET / HTTP/1.1\nHost: h\nno colon here\n", .headerWithoutColon(lineNumber: 3)),
        ("GET / HTTP/1.1\nBad Name: v\n", .invalidHeaderName(lineNumber: 2, name: "Bad Name")),
        ("GET / HTTP/1.1\n: v\n", .invalidHeaderName(lineNumber: 2, name: "")),
    ])
    func malformedInputIsRejectedWithItsReason(input: String, expected: SigV4ParseError) {
        #expect(throws: expected) { try SigV4.parseRawHTTPRequest(input) }
        // Every message tells the reader what was expected.
        #expect(expected.description.contains("expected") || expected.description.contains("must")
            || expected.description.contains("only") || expected.description.contains("no header"))
    }
}

@Suite struct DateTests {
    @Test func formatsAmzDate() {
        #expect(SigV4.amzDate(Date(timeIntervalSince1970: 1_440_938_160)) == "20150830T123600Z")
        #expect(SigV4.amzDate(Date(timeIntervalSince1970: 0)) == "19700101T000000Z")
        #expect(SigV4.amzDate(Date(timeIntervalSince1970: 951_825_599.999)) == "20000229T115959Z")  // leap day
        #expect(SigV4.amzDate(Date(timeIntervalSince1970: -1)) == "19691231T235959Z")
        #expect(SigV4.amzDate(Date(timeIntervalSince1970: 4_102_444_800)) == "21000101T000000Z")
    }

    @Test func parsesISO8601AndRoundTrips() throws {
        #expect(SigV4.parseISO8601("2015-08-30T12:36:00Z") == Date(timeIntervalSince1970: 1_440_938_160))
        #expect(SigV4.parseISO8601("2015-08-30T12:36:00.5Z") == Date(timeIntervalSince1970: 1_440_938_160.5))
        // Against Foundation's own parser, away from the hot path, for a spread of dates.
        let formatter = ISO8601DateFormatter()
        for seconds in stride(from: -2_000_000_000, to: 4_000_000_000, by: 77_777_777) {
            let date = Date(timeIntervalSince1970: TimeInterval(seconds))
            let text = formatter.string(from: date)
            #expect(SigV4.parseISO8601(text) == date, "\(text)")
            let amz = SigV4.amzDate(date)
            #expect(amz == text.replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: ""))
        }
    }

    @Test(arguments: ["", "2015-08-30", "2015-08-30T12:36:00", "2015-08-30 12:36:00Z", "2015-13-01T00:00:00Z",
                      "2015-02-29T00:00:00Z", "2015-08-30T24:00:00Z", "2015-08-30T12:36:00+01:00",
                      "2015-08-30T12:36:00.Z", "20150830T123600Z", "2015-08-3xT12:36:00Z"])
    func rejectsOtherForms(text: String) {
        #expect(SigV4.parseISO8601(text) == nil)
    }
}
