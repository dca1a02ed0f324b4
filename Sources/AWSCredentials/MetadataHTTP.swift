import AWSHTTP
import Foundation

/// What a credential source found: credentials, or why it had none (the chain lists these reasons when it is empty).
enum CredentialProbe: Sendable {
    case found(AWSCredentials)
    case notAvailable(String)
}

/// A credential source that the default chain can try without failing when it is simply absent.
protocol ProbingCredentialProvider: CredentialProvider {
    /// `.notAvailable` when the source is not configured or not reachable; throws when it is configured but broken.
    func probe() async throws -> CredentialProbe
}

extension ProbingCredentialProvider {
    /// Used directly (credential_source), an absent source is an error.
    func credentialsOrThrow(kind: AWSConfigError.Kind) async throws -> AWSCredentials {
        switch try await probe() {
        case .found(let creds): return creds
        case .notAvailable(let reason): throw AWSConfigError(kind, reason)
        }
    }
}

/// Small HTTP exchanges with link-local metadata services: short timeouts and a few attempts, so a machine that
/// is not on EC2 or ECS finds out in about a second instead of hanging.
struct MetadataHTTP: Sendable {
    let http: any HTTPTransport
    let options: HTTPRequestOptions
    let attempts: Int
    let retryDelay: Duration

    enum Outcome: Sendable {
        case response(HTTPResponse)
        /// Nothing (or nothing whole) came back after every attempt.
        case unreachable(HTTPTransportError)
    }

    /// Retries transport failures and 5xx answers; any other answer is returned at once.
    func send(_ request: HTTPRequest) async throws -> Outcome {
        var last: Outcome = .unreachable(HTTPTransportError(kind: .other, message: "not attempted", url: request.url))
        for attempt in 1...max(1, attempts) {
            if attempt > 1, retryDelay > .zero { try await Task.sleep(for: retryDelay) }
            do {
                let response = try await http.execute(request, options: options)
                last = .response(response)
                if response.status < 500 { return last }
            } catch let error as HTTPTransportError {
                if error.kind == .cancelled { throw error }
                last = .unreachable(error)
            } catch let error as CancellationError {
                throw error
            } catch {
                last = .unreachable(HTTPTransportError(kind: .other, message: "\(error)", url: request.url))
            }
        }
        return last
    }
}

extension HTTPResponse {
    /// The body as text for error messages (service error bodies, never credential documents).
    var bodyExcerpt: String { excerpt(String(decoding: body, as: UTF8.self), limit: 200) }
}
