import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A helper program run to completion with a deadline and without a shell (posix_spawn of argv), its output read
/// until it exits: a background child it leaves behind may keep the pipes open forever, so once the helper is gone
/// what is already in the pipes is read and the rest is not waited for.
enum ChildProcess {
    struct Result: Sendable {
        var status: Int32
        var stdout: [UInt8]
        var stderr: [UInt8]
        var timedOut: Bool
    }

    struct SpawnError: Error {
        let reason: String
    }

    /// Output beyond this is read and dropped, so a runaway helper cannot fill memory.
    static let outputLimit = 1 << 20

    /// The program's path: as given when it holds a `/`, else the first executable of that name on PATH.
    static func resolve(_ program: String, path: String?) -> String? {
        if program.contains("/") { return program }
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + program
            var info = stat()
            if stat(candidate, &info) == 0, info.st_mode & S_IFMT == S_IFREG, access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    static func run(arguments: [String], environment: [String: String], timeout: Duration) async throws -> Result {
        guard let program = arguments.first, let path = resolve(program, path: environment["PATH"]) else {
            throw SpawnError(reason: "not found on PATH")
        }
        let pid = try spawn(path: path, arguments: arguments, environment: environment)
        let state = Shared(pid: pid.pid)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result, Never>) in
                Thread.detachNewThread {
                    continuation.resume(returning: collect(pid: pid.pid, out: pid.out, err: pid.err,
                                                           timeout: timeout, state: state))
                }
            }
        } onCancel: {
            state.stop()
        }
    }

    /// Starts the program in a process group of its own (so a timeout can stop everything it started), stdin on
    /// /dev/null, stdout and stderr on pipes.
    private static func spawn(path: String, arguments: [String],
                              environment: [String: String]) throws -> (pid: pid_t, out: Int32, err: Int32) {
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        // Close-on-exec at once (pipe2 is not imported without _GNU_SOURCE), so no other child inherits them.
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else {
            throw SpawnError(reason: "cannot create pipes: \(String(cString: strerror(errno)))")
        }
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        // Nothing else of ours leaks into the helper (or the background children it may leave running for hours).
        _ = spawnFileActionsCloseFrom(&actions, 3)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        var rc = posix_spawn(&pid, path, &actions, &attr, argv, envp)
        // ETXTBSY: another thread's child still holds a write descriptor on the script for a moment (a helper
        // written just before it is run, as tests and installers do). It clears by itself.
        for _ in 0..<20 where rc == ETXTBSY {
            usleep(50_000)
            rc = posix_spawn(&pid, path, &actions, &attr, argv, envp)
        }
        close(outPipe[1])
        close(errPipe[1])
        guard rc == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw SpawnError(reason: String(cString: strerror(rc)))
        }
        return (pid, outPipe[0], errPipe[0])
    }

    /// Polls both pipes and the helper until it exits (or the deadline passes and its group is killed), then takes
    /// what is left in the pipes without blocking.
    private static func collect(pid: pid_t, out: Int32, err: Int32, timeout: Duration, state: Shared) -> Result {
        var buffers: [[UInt8]] = [[], []]
        var open = [true, true]
        let fds = [out, err]
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        var exited = false
        var timedOut = false
        var chunk = [UInt8](repeating: 0, count: 65536)

        func drain(_ i: Int) {
            while open[i] {
                let n = read(fds[i], &chunk, chunk.count)
                if n > 0 {
                    let room = outputLimit - buffers[i].count
                    if room > 0 { buffers[i].append(contentsOf: chunk[0..<min(n, room)]) }
                } else if n == 0 {
                    open[i] = false
                } else {
                    if errno == EINTR { continue }
                    if errno != EAGAIN && errno != EWOULDBLOCK { open[i] = false }
                    return
                }
                if n < chunk.count { return }
            }
        }

        while !exited {
            var polls = (0..<2).filter { open[$0] }.map { pollfd(fd: fds[$0], events: Int16(POLLIN), revents: 0) }
            let ready = polls.isEmpty ? { usleep(20_000); return Int32(0) }() : poll(&polls, nfds_t(polls.count), 20)
            if ready > 0 {
                for p in polls where p.revents != 0 {
                    let i = p.fd == out ? 0 : 1
                    // One read per wakeup: a read on a pipe returns what is there without waiting for more.
                    let n = read(fds[i], &chunk, chunk.count)
                    if n > 0 {
                        let room = outputLimit - buffers[i].count
                        if room > 0 { buffers[i].append(contentsOf: chunk[0..<min(n, room)]) }
                    } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                        open[i] = false
                    }
                }
            }
            var raw: Int32 = 0
            let reaped = waitpid(pid, &raw, WNOHANG)
            if reaped == pid {
                exited = true
                status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
                state.reaped()
            } else if ContinuousClock.now >= deadline || state.stopRequested {
                if ContinuousClock.now >= deadline { timedOut = true }
                kill(-pid, SIGKILL)
                waitpid(pid, &raw, 0)
                exited = true
                status = 128 + SIGKILL
                state.reaped()
            }
        }
        // The helper is gone: what it wrote is in the pipes. Take it without waiting for anyone else's end-of-file.
        for i in 0..<2 where open[i] {
            _ = fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK)
            drain(i)
        }
        close(out)
        close(err)
        return Result(status: status, stdout: buffers[0], stderr: buffers[1], timedOut: timedOut)
    }

    /// Cancellation's request to stop, and whether the pid may still be signalled.
    final class Shared: @unchecked Sendable {
        private let lock = NSLock()
        private let pid: pid_t
        private var gone = false
        private var stopping = false
        init(pid: pid_t) { self.pid = pid }
        var stopRequested: Bool { lock.withLock { stopping } }
        func reaped() { lock.withLock { gone = true } }
        /// Kills the group at once unless the helper was already reaped (its pid may then belong to someone else).
        func stop() {
            lock.withLock {
                stopping = true
                if !gone { kill(-pid, SIGKILL) }
            }
        }
    }
}

/// glibc 2.34's posix_spawn_file_actions_addclosefrom_np, which Swift's Glibc module does not import (it is a
/// GNU extension); declared by its C symbol.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func spawnFileActionsCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32
