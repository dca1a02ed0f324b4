/// Parsing a raw HTTP/1.1 request (the test vectors' `request.txt`, and `clonectl debug sigv4`'s stdin).
///
/// Lenient where the vectors are: the request target may contain raw spaces and UTF-8 (the method is the first
/// word, the version the last), lines may end in CRLF or LF, a header may be `Name:value` with no space, and
/// obsolete line folding (a line starting with whitespace) continues the previous header's value.

/// Why a raw request could not be parsed; the line number (1-based) says where to look.
public enum SigV4ParseError: Error, Equatable, CustomStringConvertible {
    case empty
    case malformedRequestLine(line: String)
    case targetNotOriginForm(target: String)
    case continuationWithoutHeader(lineNumber: Int)
    case headerWithoutColon(lineNumber: Int)
    case invalidHeaderName(lineNumber: Int, name: String)

    public var description: String {
        switch self {
        case .empty:
            return "the request is empty: expected a request line such as 'GET / HTTP/1.1', headers, a blank line "
                + "and an optional body"
        case .malformedRequestLine(let line):
            return "line 1 is not a request line: expected 'METHOD /path?query HTTP/1.1', got '\(line.prefix(120))'"
        case .targetNotOriginForm(let target):
            return "line 1: the request target must start with '/' (origin form), got '\(target.prefix(120))'"
        case .continuationWithoutHeader(let n):
            return "line \(n) starts with whitespace (a folded continuation) but no header precedes it"
        case .headerWithoutColon(let n):
            return "line \(n) is not a header: expected 'Name: value' (end the headers with a blank line)"
        case .invalidHeaderName(let n, let name):
            return "line \(n): '\(name.prefix(60))' is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)"
        }
    }
}

extension SigV4 {
    /// Parses `text` as a raw HTTP/1.1 request. Header values are trimmed; continuation lines join with one space.
    public static func parseRawHTTPRequest(_ text: String) throws(SigV4ParseError) -> SigV4Request {
        try parseRawHTTPRequest(Array(text.utf8))
    }

    /// Parses raw request bytes; the body (everything after the first blank line) is kept byte for byte.
    public static func parseRawHTTPRequest(_ bytes: [UInt8]) throws(SigV4ParseError) -> SigV4Request {
        var lines: [ArraySlice<UInt8>] = []
        var position = 0
        var bodyStart = bytes.count
        // Split lines until the blank line that ends the header section.
        while position < bytes.count {
            let end = bytes[position...].firstIndex(of: 0x0a) ?? bytes.count
            var line = bytes[position..<end]
            if line.last == 0x0d { line = line.dropLast() }
            position = end + 1
            if line.isEmpty {
                if lines.isEmpty { continue }  // tolerate blank lines before the request line
                bodyStart = min(position, bytes.count)
                break
            }
            lines.append(line)
        }
        guard let requestLine = lines.first else { throw .empty }
        let lineText = String(decoding: requestLine, as: UTF8.self)
        guard let firstSpace = requestLine.firstIndex(of: 0x20),
              let lastSpace = requestLine.lastIndex(of: 0x20), firstSpace < lastSpace,
              requestLine[(lastSpace + 1)...].starts(with: "HTTP/".utf8) else {
            throw .malformedRequestLine(line: lineText)
        }
        let method = String(decoding: requestLine[..<firstSpace], as: UTF8.self)
        let target = requestLine[(firstSpace + 1)..<lastSpace]
        guard !method.isEmpty, method.utf8.allSatisfy(isTokenByte) else {
            throw .malformedRequestLine(line: lineText)
        }
        guard target.first == UInt8(ascii: "/") else {
            throw .targetNotOriginForm(target: String(decoding: target, as: UTF8.self))
        }
        let question = target.firstIndex(of: UInt8(ascii: "?")) ?? target.endIndex
        let path = String(decoding: target[..<question], as: UTF8.self)
        let query = question < target.endIndex
            ? String(decoding: target[(question + 1)...], as: UTF8.self) : ""

        var headers: [SigV4Header] = []
        for (index, line) in lines.enumerated().dropFirst() {
            let lineNumber = index + 1
            if line.first == 0x20 || line.first == 0x09 {
                guard !headers.isEmpty else { throw .continuationWithoutHeader(lineNumber: lineNumber) }
                let more = trimmed(line)
                if !more.isEmpty {
                    let current = headers[headers.count - 1].value
                    headers[headers.count - 1].value = current.isEmpty ? more : current + " " + more
                }
                continue
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw .headerWithoutColon(lineNumber: lineNumber)
            }
            let name = line[..<colon]
            guard !name.isEmpty, name.allSatisfy(isTokenByte) else {
                throw .invalidHeaderName(lineNumber: lineNumber, name: String(decoding: name, as: UTF8.self))
            }
            headers.append(SigV4Header(name: String(decoding: name, as: UTF8.self),
                                       value: trimmed(line[(colon + 1)...])))
        }
        return SigV4Request(method: method, path: path, query: query, headers: headers,
                            body: Array(bytes[bodyStart...]))
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> String {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }),
              let last = bytes.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }

    /// RFC 9110 `tchar`: what a method or header name may contain.
    private static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
    }
}
