import CZlib

/// Gzip on zlib: the loader carries the module and the payload compressed, and .NET's GZipStream (what the
/// PowerShell loader uses) reads the gzip wrapper, so windowBits 31 (see Sources/CZlib/shim.h).
public enum Gzip {
    /// Compresses `bytes` at the best level (the loader's size limit matters more than CPU here).
    public static func compress(_ bytes: [UInt8]) throws(AgentError) -> [UInt8] {
        var stream = z_stream()
        try check(clonectl_deflate_init_gzip(&stream, Z_BEST_COMPRESSION), "deflateInit2", stream)
        defer { deflateEnd(&stream) }
        var input = bytes
        let bound = Int(deflateBound(&stream, uLong(bytes.count)))
        var output = [UInt8](repeating: 0, count: bound)
        let status: Int32 = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = uInt(outBuf.count)
                // deflateBound guarantees one Z_FINISH call completes.
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else {
            throw error(status == Z_OK ? Z_BUF_ERROR : status, "deflate", stream)
        }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }

    /// Decompresses one gzip member. `limit` bounds the output so a hostile input cannot exhaust memory.
    public static func decompress(_ bytes: [UInt8], limit: Int = 64 << 20) throws(AgentError) -> [UInt8] {
        var stream = z_stream()
        try check(clonectl_inflate_init_gzip(&stream), "inflateInit2", stream)
        defer { inflateEnd(&stream) }
        var input = bytes
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var status: Int32 = Z_OK
        try input.withUnsafeMutableBufferPointer { (inBuf) throws(AgentError) in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(inBuf.count)
            while status != Z_STREAM_END {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = uInt(outBuf.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return outBuf.count - Int(stream.avail_out)
                }
                if status != Z_OK && status != Z_STREAM_END {
                    // Z_BUF_ERROR with no input left means the data stopped early.
                    throw error(status == Z_BUF_ERROR ? Z_DATA_ERROR : status, "inflate", stream,
                                hint: "the gzip data is truncated or corrupt")
                }
                output.append(contentsOf: chunk[..<produced])
                guard output.count <= limit else {
                    throw AgentError(.gzip, "gzip data expands beyond \(limit) bytes; refusing to decompress it")
                }
            }
        }
        guard stream.avail_in == 0 else {
            throw AgentError(.gzip, "\(stream.avail_in) bytes follow the end of the gzip data; expected one member")
        }
        return output
    }

    /// The one place zlib result codes become errors (as swift-nio's syscall wrapper does for errno).
    static func check(_ status: Int32, _ operation: String, _ stream: z_stream) throws(AgentError) {
        if status != Z_OK { throw error(status, operation, stream) }
    }

    static func error(_ status: Int32, _ operation: String, _ stream: z_stream, hint: String? = nil) -> AgentError {
        let name: String
        switch status {
        case Z_DATA_ERROR: name = "Z_DATA_ERROR"
        case Z_MEM_ERROR: name = "Z_MEM_ERROR"
        case Z_BUF_ERROR: name = "Z_BUF_ERROR"
        case Z_STREAM_ERROR: name = "Z_STREAM_ERROR"
        case Z_VERSION_ERROR: name = "Z_VERSION_ERROR"
        case Z_NEED_DICT: name = "Z_NEED_DICT"
        default: name = "zlib status \(status)"
        }
        var text = "\(operation) failed: \(name)"
        if let msg = stream.msg { text += " (\(String(cString: msg)))" }
        if let hint { text += ": \(hint)" }
        return AgentError(.gzip, text)
    }
}
