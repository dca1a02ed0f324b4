import Testing
import Synchronization
@testable import AWSCore

final class PollScript: Sendable {
    let calls = Mutex(0)
}

@Suite struct WaiterTests {
    // These tests count polls; the timeout is only a safety net. It is an hour, not seconds, because the suite runs
    // beside CPU-bound tests (FuzzTests) that can hold the cooperative pool for longer than 30 s on a loaded
    // machine, and a wall-clock timeout then ended the wait before the fifth transient failure (seen in CI-like runs).
    static let fast = WaiterConfiguration(minDelay: .milliseconds(1), maxDelay: .milliseconds(2), timeout: .seconds(3600))
    static func serverError() -> AWSError {
        AWSError(kind: .service, code: "InternalError", message: "boom", httpStatus: 500, service: "ec2", operation: "DescribeImages")
    }

    @Test func aFewTransientPollFailuresDoNotEndTheWait() async throws {
        let script = PollScript()
        let value = try await Waiter.wait("x", configuration: Self.fast) { () async throws -> WaitState<Int> in
            let n = script.calls.withLock { $0 += 1; return $0 }
            if n <= 3 { throw Self.serverError() }
            return .done(n)
        }
        #expect(value == 4)
    }

    @Test func persistentTransientFailuresEndItWithTheError() async throws {
        let script = PollScript()
        do {
            _ = try await Waiter.wait("x", configuration: Self.fast) { () async throws -> WaitState<Int> in
                script.calls.withLock { $0 += 1 }
                throw Self.serverError()
            }
            Issue.record("the wait never ended")
        } catch let error as AWSError {
            #expect(error.code == "InternalError")
        }
        #expect(script.calls.withLock { $0 } == Waiter.maxTransientFailures + 1)
    }

    @Test func aClientErrorEndsTheWaitAtOnce() async throws {
        let script = PollScript()
        await #expect(throws: AWSError.self) {
            _ = try await Waiter.wait("x", configuration: Self.fast) { () async throws -> WaitState<Int> in
                script.calls.withLock { $0 += 1 }
                throw AWSError(kind: .service, code: "InvalidAMIID.Malformed", message: "bad", httpStatus: 400,
                               service: "ec2", operation: "DescribeImages")
            }
        }
        #expect(script.calls.withLock { $0 } == 1)
        #expect(AWSError(kind: .transport, code: "Transport.connect", message: "", service: "", operation: "",
                         transportKind: .connect).isTransient)
        #expect(!AWSError(kind: .malformedResponse, code: "x", message: "", service: "", operation: "").isTransient)
    }
}
