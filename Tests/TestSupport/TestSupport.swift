import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where the repository and its test tools live.
public enum TestEnvironment {
    /// The repository root (the folder holding Package.swift), found from this file's path.
    public static let repoRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    /// The Python of the project's venv (made by scripts/setup.sh), or CLONECTL_PYTHON.
    public static var python: String {
        if let p = ProcessInfo.processInfo.environment["CLONECTL_PYTHON"], !p.isEmpty { return p }
        return repoRoot.appendingPathComponent(".venv/bin/python").path
    }

    public static var hasPython: Bool { FileManager.default.isExecutableFile(atPath: python) }

    /// The shared test vectors beside the repository (../shared/testdata).
    public static var sharedTestData: URL {
        if let p = ProcessInfo.processInfo.environment["CLONECTL_SHARED_TESTDATA"], !p.isEmpty {
            return URL(fileURLWithPath: p)
        }
        return repoRoot.deletingLastPathComponent().appendingPathComponent("shared/testdata")
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago.
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(fd >= 0, "socket() failed")
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) }
        }
        precondition(bound == 0, "bind() failed")
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// True when something accepts TCP connections on 127.0.0.1:port.
    public static func isListening(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return r == 0
    }
}

/// A child process owned by a test: started, waited for on its port, and always stopped.
public final class ManagedProcess: @unchecked Sendable {
    public let process: Process
    public let port: Int
    public let logURL: URL

    /// Starts `executable` with `arguments`, then waits until 127.0.0.1:`port` accepts connections.
    public init(executable: String, arguments: [String], port: Int, environment: [String: String] = [:],
                readyTimeout: TimeInterval = 60) throws {
        self.port = port
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let log = FileManager.default.temporaryDirectory
            .appendingPathComponent("clonectl-test-\(port)-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        self.logURL = log
        self.process = process
        try process.run()
        let deadline = Date().addingTimeInterval(readyTimeout)
        while !TestEnvironment.isListening(port: port) {
            if !process.isRunning {
                throw ManagedProcessError.exited(executable, log: (try? String(contentsOf: log, encoding: .utf8)) ?? "")
            }
            if Date() > deadline {
                stop()
                throw ManagedProcessError.notReady(executable, port: port)
            }
            usleep(50_000)
        }
    }

    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

public enum ManagedProcessError: Error, CustomStringConvertible {
    case exited(String, log: String)
    case notReady(String, port: Int)
    public var description: String {
        switch self {
        case .exited(let exe, let log): return "\(exe) exited before it was ready:\n\(log)"
        case .notReady(let exe, let port): return "\(exe) did not listen on 127.0.0.1:\(port) in time"
        }
    }
}
