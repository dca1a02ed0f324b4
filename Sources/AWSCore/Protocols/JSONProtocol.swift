import Foundation
import AWSHTTP

/// AWS JSON 1.1: POST / with `Content-Type: application/x-amz-json-1.1` and `X-Amz-Target: Prefix.Operation`.
public enum JSONProtocol {
    public static let contentType = "application/x-amz-json-1.1"

    /// Encodes `input` with members in a stable order (sorted keys), so bodies can be compared as golden strings.
    public static func encode<I: Encodable>(_ input: I) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(input))
    }

    public static func headers(targetPrefix: String, operation: String) -> [HTTPHeader] {
        [HTTPHeader("Content-Type", contentType), HTTPHeader("X-Amz-Target", "\(targetPrefix).\(operation)")]
    }

    static func call<I: Encodable, O: Decodable>(client: AWSClient, targetPrefix: String, operation: String, input: I,
                                                 eventualConsistency: Set<String>, safety: CallSafety = .idempotent,
                                                 beforeAttempt: (@Sendable (Int) async throws -> Void)? = nil) async throws -> O {
        let body: [UInt8]
        do {
            body = try encode(input)
        } catch {
            throw AWSError(kind: .invalidRequest, code: "EncodingFailed", message: "\(error)",
                           service: client.service.id, operation: operation)
        }
        let response = try await client.perform(
            operation: operation, body: body, headers: headers(targetPrefix: targetPrefix, operation: operation),
            eventualConsistency: eventualConsistency, safety: safety, beforeAttempt: beforeAttempt)
        return try decode(O.self, from: response, service: client.service.id, operation: operation)
    }

    /// Decodes a 2xx body; anything unreadable is a `.malformedResponse` error naming the field.
    public static func decode<O: Decodable>(_ type: O.Type, from response: HTTPResponse, service: String,
                                            operation: String) throws -> O {
        let body = response.body.isEmpty ? Array("{}".utf8) : response.body
        do {
            return try JSONDecoder().decode(O.self, from: Data(body))
        } catch let error as DecodingError {
            throw AWSError(kind: .malformedResponse, code: "MalformedResponse",
                           message: "the \(operation) answer is not what the API promises: \(describe(error)) "
                               + "(\(body.count) bytes; \(AWSErrorParser.bodyNotShown))",
                           requestId: response.header("x-amzn-RequestId"), httpStatus: response.status,
                           service: service, operation: operation)
        } catch {
            // Only the error's type: a decoder's own description may carry a piece of the body.
            throw AWSError(kind: .malformedResponse, code: "MalformedResponse",
                           message: "the \(operation) answer could not be decoded (\(Swift.type(of: error)); \(body.count) bytes; "
                               + "\(AWSErrorParser.bodyNotShown))",
                           httpStatus: response.status, service: service, operation: operation)
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ p: [CodingKey]) -> String { p.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") }
        switch error {
        case .keyNotFound(let key, let ctx): return "missing \(path(ctx.codingPath + [key]))"
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx): return "wrong type at \(path(ctx.codingPath))"
        case .dataCorrupted(let ctx): return ctx.codingPath.isEmpty ? "not JSON (or nested too deep)" : "bad value at \(path(ctx.codingPath))"
        @unknown default: return "\(error)"
        }
    }
}
