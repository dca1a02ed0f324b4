import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `credential_process = command`: runs the command and reads credentials from its standard output.
///
/// The command runs through `/bin/sh -c`, so quoting works as users expect from a shell, with the injected
/// environment. Output must be `{"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken"?, "Expiration"?}`.
/// Errors include the program's stderr (helpers explain themselves there) but never its stdout, which holds secrets.
public struct ProcessCredentialProvider: CredentialProvider {
    public let command: String
    public let profileName: String
    public let environment: [String: String]
    public let timeout: Duration

    public init(command: String, profileName: String, environment: [String: String], timeout: Duration = .seconds(60)) {
        self.command = command
        self.profileName = profileName
        self.environment = environment
        self.timeout = timeout
    }

    /// How the command is named in messages: its program only, since arguments can carry passwords.
    var what: String {
        let program = command.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? command
        return "credential_process '\(excerpt(program, limit: 80))' of profile \(profileName)"
    }

    public func credentials() async throws -> AWSCredentials {
        let result = try await ChildProcess.run(shellCommand: command, environment: environment, timeout: timeout)
        let stderr = excerpt(String(decoding: result.stderr, as: UTF8.self), limit: 500)
        let stderrNote = stderr.isEmpty ? "" : "; its stderr said: \(stderr)"
        if result.timedOut {
            throw AWSConfigError(.credentialProcess, "\(what) did not finish within \(seconds(timeout)) s "
                + "and was stopped\(stderrNote); check that it does not wait for input")
        }
        guard result.status == 0 else {
            throw AWSConfigError(.credentialProcess, "\(what) failed with exit status \(result.status)\(stderrNote)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any] else {
            throw AWSConfigError(.credentialProcess, "\(what) did not print a JSON object on stdout "
                + "(\(result.stdout.count) bytes; content not shown because it may hold a secret)\(stderrNote)")
        }
        switch object["Version"] {
        case let number as NSNumber where number.intValue == 1 && "\(number)" == "1":
            break
        case nil:
            throw AWSConfigError(.credentialProcess, "\(what) printed JSON without \"Version\": 1; "
                + "the credential_process format requires it")
        default:
            throw AWSConfigError(.credentialProcess, "\(what) printed an unsupported Version; only 1 is supported")
        }
        return try CredentialJSON.parse(result.stdout, tokenKey: "SessionToken", source: "process profile \(profileName)",
                                        what: what, kind: .credentialProcess)
    }
}

/// A duration as seconds for messages: "60", "0.5".
func seconds(_ duration: Duration) -> String {
    let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    return value == value.rounded() ? String(Int(value)) : String(value)
}

/// A child process run to completion with a deadline, both pipes drained so it can never block on a full pipe.
enum ChildProcess {
    struct Result: Sendable {
        var status: Int32
        var stdout: [UInt8]
        var stderr: [UInt8]
        var timedOut: Bool
    }

    /// Output beyond this is read and dropped, so a runaway helper cannot fill memory.
    static let outputLimit = 1 << 20

    static func run(shellCommand: String, environment: [String: String], timeout: Duration) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", shellCommand]
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        let outPipe = Pipe()
        let errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        let state = RunState()
        do {
            try process.run()
        } catch {
            throw AWSConfigError(.credentialProcess, "could not start /bin/sh for credential_process: \(error)")
        }
        // Foundation starts the child as leader of its own process group: killing the group also stops whatever
        // the shell started, which would otherwise keep our pipes open.
        let pid = process.processIdentifier
        let stop: @Sendable () -> Void = { if state.markStopping() { kill(-pid, SIGKILL) } }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result, Never>) in
                let readers = DispatchGroup()
                for (pipe, isErr) in [(outPipe, false), (errPipe, true)] {
                    readers.enter()
                    Thread.detachNewThread {
                        let handle = pipe.fileHandleForReading
                        while true {
                            let chunk = handle.availableData
                            if chunk.isEmpty { break }
                            state.append(chunk, toStderr: isErr, limit: outputLimit)
                        }
                        readers.leave()
                    }
                }
                let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                    if process.isRunning { state.markTimedOut(); stop() }
                }
                DispatchQueue.global().async {
                    process.waitUntilExit()
                    _ = state.markStopping()  // the pid may be reused from now on: never signal it again
                    // A background grandchild may hold the pipes open; do not wait for it forever.
                    _ = readers.wait(timeout: .now() + 2)
                    continuation.resume(returning: state.result(status: process.terminationStatus))
                }
            }
        } onCancel: {
            stop()
        }
    }

    /// Output and flags shared between the reader threads, the timer and the waiter.
    final class RunState: @unchecked Sendable {
        private let lock = NSLock()
        private var out: [UInt8] = []
        private var err: [UInt8] = []
        private var timedOut = false
        private var stopping = false

        func append(_ data: Data, toStderr: Bool, limit: Int) {
            lock.withLock {
                if toStderr {
                    if err.count < limit { err.append(contentsOf: data.prefix(limit - err.count)) }
                } else if out.count < limit {
                    out.append(contentsOf: data.prefix(limit - out.count))
                }
            }
        }
        func markTimedOut() { lock.withLock { timedOut = true } }
        /// True only the first time, so the group is signalled once.
        func markStopping() -> Bool { lock.withLock { defer { stopping = true }; return !stopping } }
        func result(status: Int32) -> Result {
            lock.withLock { Result(status: status, stdout: out, stderr: err, timedOut: timedOut) }
        }
    }
}
