import AWSHTTP
import Foundation

/// ECS task roles and EKS Pod Identity: credentials from the container credentials endpoint.
///
/// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is appended to http://169.254.170.2; AWS_CONTAINER_CREDENTIALS_FULL_URI is
/// used as is, but over plain http only to hosts the SDKs trust (loopback, the ECS and EKS link-local agents), so a
/// stray variable cannot send the authorization token across the network. The token comes from
/// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read each time: EKS rotates it) or AWS_CONTAINER_AUTHORIZATION_TOKEN.
public struct ContainerCredentialProvider: ProbingCredentialProvider {
    public static let ecsHost = "http://169.254.170.2"
    /// Hosts allowed for http full URIs besides loopback: ECS (IPv4) and EKS Pod Identity (IPv4 and IPv6).
    static let allowedHosts: Set<String> = ["169.254.170.2", "169.254.170.23", "fd00:ec2::23", "[fd00:ec2::23]"]

    let environment: [String: String]
    let client: MetadataHTTP

    public init(environment: [String: String], http: any HTTPTransport, attempts: Int = 3,
                retryDelay: Duration = .seconds(1)) {
        self.environment = environment
        self.client = MetadataHTTP(http: http, options: HTTPRequestOptions(timeout: .seconds(2),
            connectTimeout: .seconds(1), maxResponseBytes: 1 << 20), attempts: attempts, retryDelay: retryDelay)
    }

    public func credentials() async throws -> AWSCredentials {
        try await credentialsOrThrow(kind: .containerCredentials)
    }

    /// The endpoint to call, nil when neither variable is set; an error for a full URI we must not call.
    public func endpoint() throws -> String? {
        if let relative = nonEmpty(environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]) {
            return Self.ecsHost + (relative.hasPrefix("/") ? relative : "/" + relative)
        }
        guard let full = nonEmpty(environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"]) else { return nil }
        guard let parts = URLComponents(string: full), let scheme = parts.scheme?.lowercased(),
              let host = parts.host?.lowercased(), !host.isEmpty else {
            throw AWSConfigError(.containerCredentials, "AWS_CONTAINER_CREDENTIALS_FULL_URI '\(excerpt(full, limit: 120))' "
                + "is not an absolute URL; set it to e.g. http://127.0.0.1:8080/credentials")
        }
        switch scheme {
        case "https":
            return full
        case "http" where Self.isLoopback(host) || Self.allowedHosts.contains(host):
            return full
        case "http":
            throw AWSConfigError(.containerCredentials, "AWS_CONTAINER_CREDENTIALS_FULL_URI uses host '\(host)', "
                + "which is not allowed over http: use a loopback address, 169.254.170.2, 169.254.170.23 or "
                + "[fd00:ec2::23], or an https URL")
        default:
            throw AWSConfigError(.containerCredentials, "AWS_CONTAINER_CREDENTIALS_FULL_URI must be http or https, "
                + "not '\(scheme)'")
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let octets = host.split(separator: ".")
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// The Authorization header value, if any. The token itself never appears in errors.
    func authorization() throws -> String? {
        var token: String?
        if let path = nonEmpty(environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]) {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
            else {
                throw AWSConfigError(.containerCredentials, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE "
                    + "\(path); check that the file exists and is readable by this user")
            }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            token = nonEmpty(environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
        }
        if let token, token.contains(where: { $0 == "\r" || $0 == "\n" }) {
            throw AWSConfigError(.containerCredentials, "the container authorization token contains a line break; "
                + "it must be a single line")
        }
        return token
    }

    func probe() async throws -> CredentialProbe {
        guard let url = try endpoint() else {
            return .notAvailable("container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
                + "AWS_CONTAINER_CREDENTIALS_FULL_URI are not set")
        }
        var request = HTTPRequest(method: "GET", url: url, headers: [HTTPHeader("Accept", "application/json")])
        if let token = try authorization() { request.headers.append(HTTPHeader("Authorization", token)) }
        let shown = url.split(separator: "?").first.map(String.init) ?? url
        switch try await client.send(request) {
        case .unreachable(let error):
            throw AWSConfigError(.containerCredentials, "container credentials endpoint \(shown) did not answer "
                + "(\(error.message)); check the task role / pod identity agent")
        case .response(let response) where response.status == 200:
            return .found(try CredentialJSON.parse(response.body, tokenKey: "Token", source: "container \(shown)",
                                                   what: "container credentials endpoint \(shown)",
                                                   kind: .containerCredentials))
        case .response(let response):
            throw AWSConfigError(.containerCredentials, "container credentials endpoint \(shown) answered HTTP "
                + "\(response.status): \(response.bodyExcerpt)")
        }
    }
}
