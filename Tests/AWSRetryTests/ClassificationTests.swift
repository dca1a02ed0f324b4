import Testing
@testable import AWSRetry

/// The golden table: every row is one failed attempt and the kind the standard chain must give it.
struct ClassificationRow: Sendable, CustomTestStringConvertible {
    let failure: AttemptFailure
    let expected: RetryErrorKind?
    var codes: Set<String> = []
    var testDescription: String { "\(failure) -> \(expected?.rawValue ?? "not retryable")" }
}

private let ecCodes: Set<String> = ["InvocationDoesNotExist", "InvalidInstanceID.NotFound", "InvalidAMIID.NotFound"]

private let goldenTable: [ClassificationRow] = {
    var rows: [ClassificationRow] = []
    // Every throttling code, at the statuses services actually send it with.
    for code in RetryClassifier.defaultThrottlingCodes.sorted() {
        rows.append(ClassificationRow(failure: .service(status: 400, code: code), expected: .throttling))
    }
    rows += [
        ClassificationRow(failure: .service(status: 503, code: "SlowDown"), expected: .throttling),
        // Code beats status: EC2's 503 RequestLimitExceeded is throttling, not a server error.
        ClassificationRow(failure: .service(status: 503, code: "RequestLimitExceeded"), expected: .throttling),
        ClassificationRow(failure: .service(status: 500, code: "ThrottlingException"), expected: .throttling),
        ClassificationRow(failure: .service(status: 429, code: nil), expected: .throttling),
        ClassificationRow(failure: .service(status: 429, code: "SomethingNew"), expected: .throttling),
        ClassificationRow(failure: .service(status: 400, code: "RequestTimeout"), expected: .transient),
        ClassificationRow(failure: .service(status: 408, code: "RequestTimeoutException"), expected: .transient),
        ClassificationRow(failure: .service(status: 400, code: "IDPCommunicationError"), expected: .transient),
        ClassificationRow(failure: .service(status: 500, code: "InternalError"), expected: .server),
        ClassificationRow(failure: .service(status: 500, code: nil), expected: .server),
        ClassificationRow(failure: .service(status: 502, code: nil), expected: .server),
        ClassificationRow(failure: .service(status: 503, code: "ServiceUnavailable"), expected: .server),
        ClassificationRow(failure: .service(status: 504, code: nil), expected: .server),
        ClassificationRow(failure: .service(status: 501, code: "NotImplemented"), expected: nil),
        ClassificationRow(failure: .service(status: 400, code: "ValidationException"), expected: nil),
        ClassificationRow(failure: .service(status: 400, code: "InvalidParameterValue"), expected: nil),
        ClassificationRow(failure: .service(status: 403, code: "AccessDeniedException"), expected: nil),
        ClassificationRow(failure: .service(status: 403, code: "SignatureDoesNotMatch"), expected: nil),
        ClassificationRow(failure: .service(status: 404, code: nil), expected: nil),
        ClassificationRow(failure: AttemptFailure(), expected: nil),
        // Eventual consistency: only with the operation's codes, and not when the resource is known old.
        ClassificationRow(failure: .service(status: 400, code: "InvocationDoesNotExist"), expected: nil),
        ClassificationRow(
            failure: .service(status: 400, code: "InvocationDoesNotExist"), expected: .eventualConsistency, codes: ecCodes),
        ClassificationRow(
            failure: .service(status: 400, code: "InvalidInstanceID.NotFound", isAfterCreate: true),
            expected: .eventualConsistency, codes: ecCodes),
        ClassificationRow(
            failure: .service(status: 400, code: "InvalidAMIID.NotFound", isAfterCreate: false), expected: nil, codes: ecCodes),
        ClassificationRow(failure: .service(status: 400, code: "ThrottlingException"), expected: .throttling, codes: ecCodes),
    ]
    let transport: [TransportFailureKind: RetryErrorKind?] = [
        .resolve: .transient, .connect: .transient, .timeout: .transient, .emptyReply: .transient,
        .sendReceive: .transient, .tls: nil, .responseTooLarge: nil, .cancelled: nil, .invalidRequest: nil, .other: nil,
    ]
    for kind in TransportFailureKind.allCases {
        rows.append(ClassificationRow(failure: .transport(kind), expected: transport[kind] ?? .client))
    }
    return rows
}()

@Suite struct ClassificationTests {
    let chain = RetryClassification()

    @Test(arguments: goldenTable)
    func goldenTableRow(_ row: ClassificationRow) {
        #expect(chain.classify(row.failure, eventualConsistencyCodes: row.codes) == row.expected)
    }

    @Test func everyTransportKindIsInTheTable() {
        let covered = Set(goldenTable.compactMap(\.failure.transportError))
        #expect(covered == Set(TransportFailureKind.allCases))
    }

    @Test func codeWinsOverStatusAndTheDecidingClassifierIsNamed() {
        let decision = chain.decide(.service(status: 503, code: "RequestLimitExceeded"))
        #expect(decision.kind == .throttling)
        #expect(decision.decidedBy == "throttlingCodes")
        #expect(chain.decide(.service(status: 503, code: nil)).decidedBy == "serverStatus")
        #expect(chain.decide(.service(status: 400, code: "Nope")).decidedBy == nil)
    }

    @Test func cancellationBeatsEverythingElse() {
        // A cancelled request that also carries a 503 must not be retried.
        let failure = AttemptFailure(httpStatus: 503, transportError: .cancelled)
        #expect(chain.decide(failure).kind == nil)
        #expect(chain.decide(failure).decidedBy == "cancellation")
    }

    @Test func firstDefiniteAnswerWins() {
        let sayNo = RetryClassifier(name: "no") { _, _ in .doNotRetry }
        let sayServer = RetryClassifier(name: "server") { _, _ in .retry(.server) }
        let sayUnknown = RetryClassifier(name: "unknown") { _, _ in .unknown }
        let failure = AttemptFailure.service(status: 503, code: nil)
        #expect(RetryClassification(classifiers: [sayUnknown, sayNo, sayServer]).classify(failure) == nil)
        #expect(RetryClassification(classifiers: [sayUnknown, sayServer, sayNo]).classify(failure) == .server)
        #expect(RetryClassification(classifiers: [sayUnknown]).classify(failure) == nil)
        #expect(RetryClassification(classifiers: []).classify(failure) == nil)
    }

    @Test func customChainsCanAddCodesAndClientMeansNo() {
        let custom = RetryClassification(
            classifiers: [.throttlingCodes(["MyThrottle"])] + RetryClassifier.standardChain
                + [RetryClassifier(name: "client400") { f, _ in f.httpStatus == 400 ? .retry(.client) : .unknown }])
        #expect(custom.classify(.service(status: 400, code: "MyThrottle")) == .throttling)
        let decision = custom.decide(.service(status: 400, code: "Other"))
        #expect(decision.kind == nil)
        #expect(decision.decidedBy == "client400")
    }

    @Test func failureDescriptionIsShortAndReadable() {
        #expect(AttemptFailure.service(status: 503, code: "RequestLimitExceeded").description == "HTTP 503 RequestLimitExceeded")
        #expect(AttemptFailure.transport(.timeout).description == "transport timeout")
        #expect(AttemptFailure().description == "unknown failure")
    }
}
