import Foundation

/// Fixed credentials (already resolved from the environment or a file).
public struct StaticCredentialProvider: CredentialProvider {
    public let value: AWSCredentials
    public init(_ value: AWSCredentials) { self.value = value }
    public func credentials() async throws -> AWSCredentials { value }
}

/// A provider built from a closure; handy for wiring and for tests.
public struct ClosureCredentialProvider: CredentialProvider {
    let body: @Sendable () async throws -> AWSCredentials
    public init(_ body: @escaping @Sendable () async throws -> AWSCredentials) { self.body = body }
    public func credentials() async throws -> AWSCredentials { try await body() }
}

/// AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN, or the legacy AWS_SECURITY_TOKEN).
public enum EnvironmentCredentials {
    /// nil when neither variable is set; an error when only one is, since that is always a mistake.
    public static func read(_ environment: [String: String]) throws -> AWSCredentials? {
        let keyId = nonEmpty(environment["AWS_ACCESS_KEY_ID"])
        let secret = nonEmpty(environment["AWS_SECRET_ACCESS_KEY"])
        switch (keyId, secret) {
        case (nil, nil):
            return nil
        case (let id?, let secret?):
            let token = nonEmpty(environment["AWS_SESSION_TOKEN"]) ?? nonEmpty(environment["AWS_SECURITY_TOKEN"])
            return AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token,
                                  source: "environment")
        case (nil, _):
            throw AWSConfigError(.partialCredentials, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not; "
                + "set both, or unset AWS_SECRET_ACCESS_KEY to use a profile")
        case (_, nil):
            throw AWSConfigError(.partialCredentials, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; "
                + "set both, or unset AWS_ACCESS_KEY_ID to use a profile")
        }
    }
}

/// The JSON shapes that credential_process, the container endpoint and IMDS answer with.
public enum CredentialJSON {
    /// Parses `{AccessKeyId, SecretAccessKey, Token|SessionToken, Expiration}`. Errors describe what is missing,
    /// never the document itself (it holds the secret).
    static func parse(_ bytes: [UInt8], tokenKey: String, source: String, what: String,
                      kind: AWSConfigError.Kind) throws -> AWSCredentials {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw AWSConfigError(kind, "\(what) did not return a JSON object (\(bytes.count) bytes received; "
                + "content not shown because it may hold a secret)")
        }
        func string(_ key: String) -> String? { nonEmpty(object[key] as? String) }
        guard let keyId = string("AccessKeyId"), let secret = string("SecretAccessKey") else {
            let missing = ["AccessKeyId", "SecretAccessKey"].filter { string($0) == nil }
            throw AWSConfigError(kind, "\(what) returned JSON without \(missing.joined(separator: " and "))")
        }
        var expiration: Date?
        if let raw = string("Expiration") {
            guard let date = parseISO8601(raw) else {
                throw AWSConfigError(kind, "\(what) returned Expiration '\(excerpt(raw, limit: 40))', "
                    + "which is not an ISO 8601 time such as 2026-11-28T04:00:00Z")
            }
            expiration = date
        }
        return AWSCredentials(accessKeyId: keyId, secretAccessKey: secret, sessionToken: string(tokenKey),
                              expiration: expiration, source: source)
    }

    /// A time for messages: ISO 8601 UTC to the second.
    public static func format(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    /// ISO 8601 with or without fractional seconds (IMDS, ECS and STS differ).
    public static func parseISO8601(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
