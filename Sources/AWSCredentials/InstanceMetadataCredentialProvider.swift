import AWSHTTP
import Foundation

/// EC2 instance profile credentials from the instance metadata service, IMDSv2 first.
///
/// A session token is fetched with PUT /latest/api/token and sent on every GET. When the PUT is refused with
/// 403/404/405 or times out (a container on EC2 behind a hop limit of 1 drops the answer), the plain IMDSv1 GETs are
/// tried unless AWS_EC2_METADATA_V1_DISABLED / ec2_metadata_v1_disabled forbid it, as botocore does.
public struct InstanceMetadataCredentialProvider: ProbingCredentialProvider {
    public static let defaultEndpoint = "http://169.254.169.254"
    public static let ipv6Endpoint = "http://[fd00:ec2::254]"
    static let tokenTTLHeader = "X-aws-ec2-metadata-token-ttl-seconds"
    static let tokenHeader = "X-aws-ec2-metadata-token"
    static let credentialsPath = "/latest/meta-data/iam/security-credentials/"

    public let baseURL: String
    public let disabled: Bool
    let v1Disabled: Bool
    let client: MetadataHTTP

    public init(environment: [String: String], profile: ConfigProfile? = nil, http: any HTTPTransport) {
        let mode = nonEmpty(environment["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"])
            ?? profile?["ec2_metadata_service_endpoint_mode"]
        let base = nonEmpty(environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"]) ?? profile?["ec2_metadata_service_endpoint"]
            ?? (mode?.lowercased() == "ipv6" ? Self.ipv6Endpoint : Self.defaultEndpoint)
        baseURL = base.hasSuffix("/") ? String(base.dropLast()) : base
        disabled = parseBool(environment["AWS_EC2_METADATA_DISABLED"])
        v1Disabled = parseBool(nonEmpty(environment["AWS_EC2_METADATA_V1_DISABLED"]) ?? profile?["ec2_metadata_v1_disabled"])
        // The CLI's defaults: 1 second, 1 attempt; both can be raised for slow instances.
        let seconds = Int(nonEmpty(environment["AWS_METADATA_SERVICE_TIMEOUT"]) ?? profile?["metadata_service_timeout"] ?? "")
        let attempts = Int(nonEmpty(environment["AWS_METADATA_SERVICE_NUM_ATTEMPTS"])
            ?? profile?["metadata_service_num_attempts"] ?? "")
        let timeout = Duration.seconds(max(1, min(seconds ?? 1, 30)))
        client = MetadataHTTP(http: http, options: HTTPRequestOptions(timeout: timeout + .seconds(1),
            connectTimeout: timeout, maxResponseBytes: 1 << 20), attempts: max(1, min(attempts ?? 1, 5)),
            retryDelay: .zero)
    }

    public func credentials() async throws -> AWSCredentials {
        try await credentialsOrThrow(kind: .instanceMetadata)
    }

    func probe() async throws -> CredentialProbe {
        if disabled {
            return .notAvailable("EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED=true")
        }
        let token: String?
        switch try await sessionToken() {
        case .unavailable(let reason): return .notAvailable(reason)
        case .token(let value): token = value
        }
        let roleResponse = try await get(Self.credentialsPath, token: token)
        guard let roleResponse else { return .notAvailable("EC2 instance metadata at \(baseURL): no answer") }
        if roleResponse.status == 404 {
            return .notAvailable("EC2 instance metadata at \(baseURL): the instance has no IAM role attached")
        }
        guard roleResponse.status == 200 else {
            throw AWSConfigError(.instanceMetadata, "EC2 instance metadata at \(baseURL) answered HTTP "
                + "\(roleResponse.status) for the role name: \(roleResponse.bodyExcerpt)")
        }
        let roleName = String(decoding: roleResponse.body, as: UTF8.self)
            .split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard !roleName.isEmpty else {
            return .notAvailable("EC2 instance metadata at \(baseURL): the instance has no IAM role attached")
        }
        let encoded = roleName.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? roleName
        guard let credsResponse = try await get(Self.credentialsPath + encoded, token: token) else {
            throw AWSConfigError(.instanceMetadata, "EC2 instance metadata at \(baseURL) stopped answering while "
                + "fetching credentials for role \(roleName)")
        }
        guard credsResponse.status == 200 else {
            throw AWSConfigError(.instanceMetadata, "EC2 instance metadata at \(baseURL) answered HTTP "
                + "\(credsResponse.status) for role \(roleName): \(credsResponse.bodyExcerpt)")
        }
        let what = "EC2 instance metadata credentials for role \(roleName)"
        if let code = (try? JSONSerialization.jsonObject(with: Data(credsResponse.body)) as? [String: Any])?["Code"]
            as? String, code != "Success" {
            throw AWSConfigError(.instanceMetadata, "\(what) returned Code \(excerpt(code, limit: 60)) instead of Success")
        }
        return .found(try CredentialJSON.parse(credsResponse.body, tokenKey: "Token", source: "imds role \(roleName)",
                                               what: what, kind: .instanceMetadata))
    }

    /// The instance's region (placement/region), nil when there is no metadata service. The CLI does not use it
    /// for region resolution; callers may offer it as a hint.
    public func region() async throws -> String? {
        guard !disabled, case .token(let token) = try await sessionToken(),
              let response = try await get("/latest/meta-data/placement/region", token: token),
              response.status == 200 else { return nil }
        return nonEmpty(String(decoding: response.body, as: UTF8.self))
    }

    enum TokenOutcome { case token(String?), unavailable(String) }

    /// IMDSv2 session token; `.token(nil)` means "use IMDSv1".
    func sessionToken() async throws -> TokenOutcome {
        let request = HTTPRequest(method: "PUT", url: baseURL + "/latest/api/token",
                                  headers: [HTTPHeader(Self.tokenTTLHeader, "21600")])
        switch try await client.send(request) {
        case .response(let response) where response.status == 200:
            let token = String(decoding: response.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return token.isEmpty ? try fallbackToV1("an empty token") : .token(token)
        case .response(let response) where [403, 404, 405].contains(response.status):
            return try fallbackToV1("HTTP \(response.status) for the IMDSv2 token")
        case .response(let response):
            throw AWSConfigError(.instanceMetadata, "EC2 instance metadata at \(baseURL) answered HTTP "
                + "\(response.status) for the IMDSv2 token: \(response.bodyExcerpt)")
        case .unreachable(let error) where error.kind == .timeout:
            return try fallbackToV1("a timeout for the IMDSv2 token")
        case .unreachable(let error):
            return .unavailable("EC2 instance metadata at \(baseURL): not reachable (\(error.message)); "
                + "this is normal when not running on EC2")
        }
    }

    private func fallbackToV1(_ why: String) throws -> TokenOutcome {
        if v1Disabled {
            return .unavailable("EC2 instance metadata at \(baseURL): \(why), and IMDSv1 is disabled by "
                + "AWS_EC2_METADATA_V1_DISABLED / ec2_metadata_v1_disabled")
        }
        return .token(nil)
    }

    /// One GET, nil when the service did not answer.
    private func get(_ path: String, token: String?) async throws -> HTTPResponse? {
        var request = HTTPRequest(method: "GET", url: baseURL + path)
        if let token { request.headers.append(HTTPHeader(Self.tokenHeader, token)) }
        if case .response(let response) = try await client.send(request) { return response }
        return nil
    }
}
