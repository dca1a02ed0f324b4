import Foundation

/// One profile as the AWS CLI sees it: the config file's `[profile name]` overlaid by the credentials file's `[name]`.
///
/// The two halves stay separate because the credential chain reads static keys from the credentials file before
/// `credential_process`, and from the config file after it.
public struct ConfigProfile: Sendable, Equatable {
    public let name: String
    public let configValues: [String: String]
    public let credentialsValues: [String: String]
    let configLabel: String
    let credentialsLabel: String

    public init(name: String, configValues: [String: String] = [:], credentialsValues: [String: String] = [:],
                configLabel: String = "config", credentialsLabel: String = "credentials") {
        self.name = name
        self.configValues = configValues
        self.credentialsValues = credentialsValues
        self.configLabel = configLabel
        self.credentialsLabel = credentialsLabel
    }

    /// A setting (lower-case key), the credentials file winning; empty values count as unset.
    public subscript(key: String) -> String? {
        nonEmpty(credentialsValues[key]) ?? nonEmpty(configValues[key])
    }

    /// Where a setting came from, for messages: "profile dev in ~/.aws/config".
    public func origin(of key: String) -> String {
        let file = nonEmpty(credentialsValues[key]) != nil ? credentialsLabel : configLabel
        return "profile \(name) in \(file)"
    }

    /// Where a user should add a setting to this profile.
    public var configLocation: String { "profile \(name) in \(configLabel)" }

    /// A whole positive integer setting, or a clear error naming the key and file.
    public func positiveInt(_ key: String, maximum: Int = Int.max) throws -> Int? {
        guard let raw = self[key] else { return nil }
        guard let value = Int(raw), value >= 1, value <= maximum else {
            let range = maximum == Int.max ? "a whole number of at least 1" : "a whole number from 1 to \(maximum)"
            throw AWSConfigError(.invalidValue, "\(key) = \(excerpt(raw, limit: 40)) in \(origin(of: key)) "
                + "is not valid; use \(range)")
        }
        return value
    }

    /// Static keys from one half of the profile: nil when neither key is there, an error when only one is.
    func staticCredentials(fromCredentialsFile: Bool) throws -> AWSCredentials? {
        let values = fromCredentialsFile ? credentialsValues : configValues
        let label = fromCredentialsFile ? credentialsLabel : configLabel
        let keyId = nonEmpty(values["aws_access_key_id"])
        let secret = nonEmpty(values["aws_secret_access_key"])
        switch (keyId, secret) {
        case (nil, nil):
            return nil
        case (let id?, let secret?):
            let token = nonEmpty(values["aws_session_token"]) ?? nonEmpty(values["aws_security_token"])
            let kind = fromCredentialsFile ? "shared-credentials-file" : "config-file"
            return AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token,
                                  source: "\(kind) profile \(name)")
        case (nil, _):
            throw AWSConfigError(.partialCredentials, "profile \(name) in \(label) has aws_secret_access_key but no "
                + "aws_access_key_id; add the key id or remove the secret")
        case (_, nil):
            throw AWSConfigError(.partialCredentials, "profile \(name) in \(label) has aws_access_key_id but no "
                + "aws_secret_access_key; add the secret (aws configure --profile \(name)) or remove the key id")
        }
    }
}
