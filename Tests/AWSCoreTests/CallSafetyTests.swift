import Testing
import AWSHTTP
@testable import AWSCore

/// Which failures prove that a call that acts was not carried out (so it may be sent again), and which leave the
/// outcome unknown (so the caller must look first).
@Suite struct CallSafetyTests {
    func service(_ status: Int, _ code: String) -> AWSError {
        AWSError(kind: .service, code: code, message: "", httpStatus: status, service: "ec2", operation: "CreateImage")
    }
    func transport(_ kind: HTTPTransportError.Kind) -> AWSError {
        AWSError(kind: .transport, code: "Transport.\(kind.rawValue)", message: "", service: "ssm", operation: "SendCommand",
                 transportKind: kind)
    }

    @Test func refusalsProveNothingWasDone() {
        for error in [service(400, "ThrottlingException"), service(503, "RequestLimitExceeded"), service(429, "TooManyRequests"),
                      service(503, "ServiceUnavailable"), service(400, "InvalidInstanceId"), transport(.connect),
                      transport(.resolve)] {
            #expect(CallSafety.provesNotCarriedOut(error), "\(error.code)")
            #expect(!CallSafety.leavesOutcomeUnknown(error), "\(error.code)")
        }
    }

    @Test func lostAnswersAndServerErrorsLeaveTheOutcomeUnknown() {
        for error in [service(500, "InternalError"), service(500, "InternalServerError"), service(502, "HTTP502"),
                      transport(.emptyReply), transport(.sendReceive), transport(.timeout), transport(.other)] {
            #expect(!CallSafety.provesNotCarriedOut(error), "\(error.code)")
            #expect(CallSafety.leavesOutcomeUnknown(error), "\(error.code)")
        }
    }

    @Test func onlyReadsMayGoOutOnAReusedConnection() {
        #expect(!CallSafety.idempotent.sendOnce)
        #expect(CallSafety.idempotentByToken.sendOnce)
        #expect(CallSafety.actsOnce.sendOnce)
    }
}
