import AWSHTTP

/// The AWS Query protocol (EC2's dialect and STS's): a form-encoded POST, an XML answer.
public enum QueryProtocol {
    public static let contentType = "application/x-www-form-urlencoded; charset=utf-8"

    /// Sends `parameters` and returns the answer's root element (`<DescribeInstancesResponse>` ...).
    static func call(client: AWSClient, parameters: QueryParameters,
                     eventualConsistency: Set<String> = [], safety: CallSafety = .idempotent) async throws -> XMLNode {
        let operation = parameters.pairs.first?.1 ?? "?"
        let response = try await client.perform(
            operation: operation, body: Array(parameters.encoded.utf8),
            headers: [HTTPHeader("Content-Type", contentType)], eventualConsistency: eventualConsistency,
            safety: safety)
        do {
            return try XMLNode.parse(response.body)
        } catch {
            throw AWSError(kind: .malformedResponse, code: "MalformedResponse",
                           message: "the \(operation) answer is not XML (\(error)); \(response.body.count) bytes, "
                               + AWSErrorParser.bodyNotShown,
                           requestId: response.header("x-amzn-RequestId"), httpStatus: response.status,
                           service: client.service.id, operation: operation)
        }
    }

    /// Turns a missing-member failure while reading an answer into a `.malformedResponse` error.
    static func read<T>(_ client: AWSClient, _ operation: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as AWSError {
            throw error
        } catch {
            throw AWSError(kind: .malformedResponse, code: "MalformedResponse",
                           message: "the \(operation) answer is not what the API promises: \(error)",
                           service: client.service.id, operation: operation)
        }
    }
}
