import AWSHTTP
import AWSRetry

/// Whether a call may be sent again, decided per call by the one who knows what it does.
///
/// A read can be repeated at will. A call that creates or acts (SendCommand, CreateImage, StopInstances, ...) may
/// have been carried out even when no answer came back: repeating it blindly is how a guest command runs twice or a
/// second AMI appears. Such a call goes out on a connection libcurl cannot silently re-send on
/// (`HTTPRequestOptions.sendOnce`), and the retry path repeats it only after a failure that proves the service did
/// not act. Any other failure surfaces with `AWSError.outcomeUnknown` set: the caller looks before it tries again.
public enum CallSafety: Sendable, Equatable {
    /// Reads and anything else that is harmless twice: retried as the retry strategy decides.
    case idempotent
    /// Acts, but carries a client token (RunInstances `ClientToken`): a repeat resolves to the first call's result,
    /// so the retry strategy may repeat it; still sent on a fresh connection, so every repeat is one we decided.
    case idempotentByToken
    /// Acts and has no token: sent once; repeated only when the failure proves it was not carried out.
    case actsOnce

    /// Sent on a connection that libcurl will not re-send on by itself.
    var sendOnce: Bool { self != .idempotent }

    /// For `.actsOnce`: the failure shows the service refused the call before acting on it (it throttled it, it shed
    /// load with 503, or the connection never opened), so sending it again cannot make a second one.
    static func provesNotCarriedOut(_ error: AWSError) -> Bool {
        switch error.kind {
        case .transport:
            // Only failures before a single byte went out: a fresh connection that could not be opened.
            switch error.transportKind {
            case .resolve?, .connect?, .cancelled?, .invalidRequest?: return true
            default: return false
            }
        case .service:
            // A 4xx is the service refusing the request (throttled, invalid, not found): it did not act.
            if let status = error.httpStatus, (400..<500).contains(status) { return true }
            if RetryClassifier.defaultThrottlingCodes.contains(error.code) { return true } // EC2: 503 RequestLimitExceeded
            // 503 Service Unavailable is load shedding at the front door; 500 InternalError may come after the act.
            return error.httpStatus == 503 && ["ServiceUnavailable", "Unavailable", "ServiceUnavailableException"].contains(error.code)
        case .invalidRequest:
            return true
        case .malformedResponse, .timeout:
            return false
        }
    }

    /// For `.actsOnce`: after this failure the service may or may not have acted.
    static func leavesOutcomeUnknown(_ error: AWSError) -> Bool {
        switch error.kind {
        case .transport, .malformedResponse: return !provesNotCarriedOut(error)
        case .service: return (error.httpStatus ?? 0) >= 500 && !provesNotCarriedOut(error)
        case .invalidRequest, .timeout: return false
        }
    }
}
