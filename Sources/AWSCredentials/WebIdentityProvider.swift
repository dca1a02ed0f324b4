import Foundation

/// What AssumeRoleWithWebIdentity needs; the token is read from its file on every refresh (CI systems and EKS
/// rotate it).
public struct WebIdentityRequest: Sendable {
    public let roleArn: String
    public let roleSessionName: String
    public let webIdentityToken: String
    public let durationSeconds: Int?
}

/// Calls STS AssumeRoleWithWebIdentity (unsigned); injected like `AssumeRoleFunction`, so this module stays free
/// of the wire protocol.
public typealias AssumeRoleWithWebIdentityFunction = @Sendable (WebIdentityRequest) async throws -> AWSCredentials

/// `web_identity_token_file` + `role_arn` in the profile, or AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN: each setting
/// from the environment first, then the profile, as botocore's AssumeRoleWithWebIdentityProvider reads them.
struct WebIdentityProvider: CredentialProvider {
    let tokenFile: String
    let tokenOrigin: String
    let roleArn: String
    let sessionName: String?
    let durationSeconds: Int?
    let call: AssumeRoleWithWebIdentityFunction
    let now: @Sendable () -> Date

    /// The provider when a token file is configured; nil otherwise. A token file without a role is an error.
    static func from(profile: ConfigProfile, environment: [String: String], call: @escaping AssumeRoleWithWebIdentityFunction,
                     now: @escaping @Sendable () -> Date) throws -> WebIdentityProvider? {
        func setting(_ key: String, _ variable: String) -> (String, String)? {
            nonEmpty(environment[variable]).map { ($0, variable) } ?? profile[key].map { ($0, "\(key) of \(profile.origin(of: key))") }
        }
        guard let (file, origin) = setting("web_identity_token_file", "AWS_WEB_IDENTITY_TOKEN_FILE") else { return nil }
        guard let (role, _) = setting("role_arn", "AWS_ROLE_ARN") else {
            throw AWSConfigError(.assumeRole, "\(origin) names a web identity token file but no role is set; "
                + "set AWS_ROLE_ARN or add role_arn to \(profile.configLocation)")
        }
        let duration = try profile.positiveInt("duration_seconds", maximum: 43_200)
        return WebIdentityProvider(tokenFile: file, tokenOrigin: origin, roleArn: role,
                                   sessionName: setting("role_session_name", "AWS_ROLE_SESSION_NAME")?.0,
                                   durationSeconds: duration, call: call, now: now)
    }

    func credentials() async throws -> AWSCredentials {
        guard let data = FileManager.default.contents(atPath: tokenFile) else {
            throw AWSConfigError(.assumeRole, "the web identity token file \(tokenFile) (from \(tokenOrigin)) cannot be "
                + "read; check the path and that the CI job or pod mounts the token")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw AWSConfigError(.assumeRole, "the web identity token file \(tokenFile) (from \(tokenOrigin)) is empty")
        }
        let request = WebIdentityRequest(roleArn: roleArn,
                                         roleSessionName: sessionName ?? "clonectl-\(Int(now().timeIntervalSince1970))",
                                         webIdentityToken: token, durationSeconds: durationSeconds)
        do {
            return try await call(request)
        } catch let error as AWSConfigError {
            throw error
        } catch {
            // The token is never part of the message: only the role and where the token came from.
            throw AWSConfigError(.assumeRole, "AssumeRoleWithWebIdentity for role \(roleArn) (token from \(tokenOrigin)) "
                + "failed: \("\(error)".replacingOccurrences(of: token, with: "<token>"))")
        }
    }
}
