import CCurl
#if canImport(Glibc)
import Glibc
#endif

// curl's C callbacks. They are plain top-level functions, never capturing closures: converting a capturing
// closure to a C function pointer crashes the Swift 6.3.1 compiler. The transfer arrives through `userdata`
// (an unretained `Unmanaged` pointer; the multi loop keeps the transfer alive while curl owns the handle).
// All of them run on the multi thread, inside curl_multi_perform.

/// Body bytes. Returning anything but `size * count` makes curl abort the transfer (CURLE_WRITE_ERROR).
func curlWriteCallback(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
                       _ userdata: UnsafeMutableRawPointer?) -> Int {
    guard let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    let n = size * count
    let limit = transfer.options.maxResponseBytes
    if transfer.body.count + n > limit {
        transfer.abort = .responseTooLarge(limit: limit)
        return 0
    }
    if transfer.body.isEmpty, let h = transfer.easy {
        // Size the buffer once from Content-Length (already bounded by CURLOPT_MAXFILESIZE_LARGE).
        var announced: curl_off_t = -1
        if clonectl_easy_getinfo_off_t(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced) == CURLE_OK,
           announced > 0 {
            transfer.body.reserveCapacity(min(Int(announced), limit))
        }
    }
    if let data, n > 0 {
        data.withMemoryRebound(to: UInt8.self, capacity: n) { transfer.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
    }
    return n
}

/// One header line at a time, status lines included. A new status line (after `100 Continue`, a proxy's
/// CONNECT answer or any interim response) starts the header set afresh, so only the final response's remain.
func curlHeaderCallback(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
                        _ userdata: UnsafeMutableRawPointer?) -> Int {
    let n = size * count
    guard let userdata, let data else { return n }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    let line = data.withMemoryRebound(to: UInt8.self, capacity: n) {
        String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self)
    }.trimmingSpaces()
    if line.hasPrefix("HTTP/") {
        transfer.responseHeaders.removeAll(keepingCapacity: true)
    } else if let colon = line.firstIndex(of: ":") {
        let name = String(line[..<colon]).trimmingSpaces()
        let value = String(line[line.index(after: colon)...]).trimmingSpaces()
        if !name.isEmpty { transfer.responseHeaders.append(HTTPHeader(name, value)) }
    }
    return n
}

/// Verbose trace (only when the configuration asks for it): text and headers to stderr, never bodies, and
/// never the values of headers that carry credentials.
func curlDebugCallback(_ handle: UnsafeMutableRawPointer?, _ type: curl_infotype, _ data: UnsafeMutablePointer<CChar>?,
                       _ size: Int, _ userdata: UnsafeMutableRawPointer?) -> Int32 {
    guard let data, size > 0 else { return 0 }
    let prefix: String
    switch type {
    case CURLINFO_TEXT: prefix = "* "
    case CURLINFO_HEADER_IN: prefix = "< "
    case CURLINFO_HEADER_OUT: prefix = "> "
    default: return 0
    }
    let text = data.withMemoryRebound(to: UInt8.self, capacity: size) {
        String(decoding: UnsafeBufferPointer(start: $0, count: size), as: UTF8.self)
    }
    var out = ""
    for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
        out += "curl " + prefix + redactHeaderLine(String(raw).trimmingSpaces()) + "\n"
    }
    let bytes = Array(out.utf8)
    _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    return 0
}

/// Headers whose values are secrets or signatures; everything else in a trace is harmless.
private let sensitiveHeaders: Set<String> = [
    "authorization", "proxy-authorization", "x-amz-security-token", "cookie", "set-cookie",
    "x-aws-ec2-metadata-token",
]

/// Redacts credential headers and the query of a request line (`GET /p?X-Amz-Signature=... HTTP/1.1`):
/// presigned queries carry signatures and session tokens.
func redactHeaderLine(_ line: String) -> String {
    if line.hasSuffix(" HTTP/1.1") || line.hasSuffix(" HTTP/1.0"), let q = line.firstIndex(of: "?") {
        return String(line[..<q]) + "?<redacted>" + String(line.suffix(9))
    }
    guard let colon = line.firstIndex(of: ":") else { return line }
    let name = String(line[..<colon]).trimmingSpaces().lowercased()
    return sensitiveHeaders.contains(name) ? "\(line[..<colon]): <redacted>" : line
}
