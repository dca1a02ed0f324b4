import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs work so that Ctrl-C (SIGINT) or SIGTERM cancels it cleanly instead of killing the process: the workflow
/// records where it stopped, and a second Ctrl-C exits at once.
enum Interruptible {
    static func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async -> Result<T, Error> {
        let task = Task { try await body() }
        let sources = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                if task.isCancelled { exit(130) }
                Console.write("\nstopping: recording where the run is (Ctrl-C again to quit at once)\n", to: .err)
                task.cancel()
            }
            source.resume()
            return source
        }
        defer {
            for s in sources { s.cancel() }
            signal(SIGINT, SIG_DFL)
            signal(SIGTERM, SIG_DFL)
        }
        do {
            return .success(try await task.value)
        } catch {
            return .failure(error)
        }
    }
}
