import Foundation

// Values that hold secrets (credentials, environments with AWS_SECRET_ACCESS_KEY, profiles with keys) describe and
// mirror themselves without them: `print`, string interpolation, `dump()` and debuggers all go through one of these,
// and a stray log line must never leak a key.

extension AWSCredentials: CustomReflectable {
    public var customMirror: Mirror {
        Mirror(self, children: [
            "accessKeyId": accessKeyId, "secretAccessKey": "<redacted>",
            "sessionToken": sessionToken == nil ? "none" : "<redacted>",
            "expiration": expiration.map { "\($0)" } ?? "none", "source": source,
        ], displayStyle: .struct)
    }
}

extension ConfigProfile: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Setting names only: values may be keys.
    public var description: String {
        "ConfigProfile(name: \(name), settings: \(Set(configValues.keys).union(credentialsValues.keys).sorted()))"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}

extension SharedConfig: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "SharedConfig(config: \(configLabel), credentials: \(credentialsLabel), profiles: \(profileNames))"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}

extension AWSSettings: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "AWSSettings(profile: \(profileName)\(profileExplicit ? " (--profile)" : ""), region: \(region), "
            + "endpointURL: \(explicitEndpointURL.map(redactUserInfo) ?? "none"), retryMode: \(retryMode.rawValue), "
            + "maxAttempts: \(maxAttempts.map(String.init) ?? "default"), \(network))"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}

/// Providers that keep the environment (which may hold keys or the container token) show only what they are.
extension DefaultCredentialChain: CustomStringConvertible, CustomReflectable {
    public var description: String { "DefaultCredentialChain(profile: \(profileName))" }
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}

extension ProcessCredentialProvider: CustomStringConvertible, CustomReflectable {
    public var description: String { "ProcessCredentialProvider(\(what))" }
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}

extension ContainerCredentialProvider: CustomStringConvertible, CustomReflectable {
    public var description: String {
        "ContainerCredentialProvider(endpoint: \((try? endpoint()).flatMap { $0 } ?? "not configured"))"
    }
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}

extension InstanceMetadataCredentialProvider: CustomStringConvertible, CustomReflectable {
    public var description: String { "InstanceMetadataCredentialProvider(\(baseURL)\(disabled ? ", disabled" : ""))" }
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}

extension StaticCredentialProvider: CustomStringConvertible, CustomReflectable {
    public var description: String { "StaticCredentialProvider(\(value))" }
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}

extension NetworkSettings: CustomDebugStringConvertible, CustomReflectable {
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}
