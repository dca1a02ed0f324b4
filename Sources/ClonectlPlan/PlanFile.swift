import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a plan file's text, refusing what is not a plan before YAML sees it: a folder, a FIFO or a device (reading
/// one would block or never end), a file too big to be a plan, UTF-16 (what Windows editors often save), bytes that
/// are not UTF-8. Each refusal says what to do instead.
enum PlanFile {
    /// A 5,000-clone plan is about 1.5 MB; anything past this is not a plan.
    static let maxBytes = 32 << 20

    static func read(path: String) throws -> String {
        func fail(_ message: String) -> PlanError {
            PlanError(issues: [PlanIssue(file: path, line: nil, column: nil, field: "", message: message)])
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            throw fail("cannot read the plan: \(reason); give the path of a plan file (YAML)")
        }
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG else {
            let what = type == S_IFDIR ? "a folder" : type == S_IFIFO ? "a pipe (FIFO)"
                : type == S_IFCHR || type == S_IFBLK ? "a device" : type == S_IFSOCK ? "a socket" : "not a regular file"
            throw fail("is \(what), not a plan file; give the path of a YAML plan file (or copy the plan into one)")
        }
        guard Int(info.st_size) <= maxBytes else {
            throw fail("is \(info.st_size) bytes, more than the \(maxBytes >> 20) MiB a plan may be; is this the right file?")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw fail("cannot read the plan: permission denied; make it readable by this user")
        }
        return try decode([UInt8](data), fail: fail)
    }

    /// UTF-8 text (a UTF-8 byte order mark is dropped); UTF-16 and invalid UTF-8 are refused with the line of the fault.
    static func decode(_ bytes: [UInt8], fail: (String) -> PlanError) throws -> String {
        var bytes = bytes[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        let utf16BOM = bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF])
        // Without a byte order mark, UTF-16 text of ASCII shows as every other byte zero.
        let zeroHalf = bytes.count >= 4 && (bytes.prefix(64).enumerated().filter { $0.element == 0 }.count * 2 >= min(bytes.count, 64))
        if utf16BOM || zeroHalf {
            throw fail("is UTF-16 text (as Windows PowerShell's Out-File and Notepad save it); save it as UTF-8, "
                + "e.g. iconv -f UTF-16 -t UTF-8 plan.yaml > plan-utf8.yaml")
        }
        if let zero = bytes.firstIndex(of: 0) {
            throw fail("holds a NUL byte at line \(line(of: zero, in: bytes)): a plan is text; is this the right file?")
        }
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var offset = bytes.startIndex
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput: break loop
            case .error:
                throw fail("is not valid UTF-8 (a bad byte at line \(line(of: offset, in: bytes))); "
                    + "save it as UTF-8, e.g. iconv -f WINDOWS-1252 -t UTF-8 plan.yaml > plan-utf8.yaml")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func line(of index: Int, in bytes: ArraySlice<UInt8>) -> Int {
        bytes[bytes.startIndex..<min(index, bytes.endIndex)].filter { $0 == 0x0A }.count + 1
    }
}
