import Foundation

/// How S3 requests are addressed, from the profile's nested `s3 =` block and the environment, as the AWS CLI reads
/// them (botocore: `addressing_style`, `us_east_1_regional_endpoint` / AWS_S3_US_EAST_1_REGIONAL_ENDPOINT).
public struct S3Settings: Sendable, Equatable {
    /// `auto` (virtual-hosted where the bucket name allows it and the endpoint is AWS's, else path), `virtual`, `path`.
    public enum AddressingStyle: String, Sendable { case auto, virtual, path }
    public var addressingStyle: AddressingStyle
    /// us-east-1 goes to the global host s3.amazonaws.com unless this is `regional` (the CLI's default is `legacy`).
    public var usEast1Regional: Bool

    public init(addressingStyle: AddressingStyle = .auto, usEast1Regional: Bool = false) {
        self.addressingStyle = addressingStyle
        self.usEast1Regional = usEast1Regional
    }
}

extension ServiceEndpointInfo {
    /// Signed as `s3`; AWS_ENDPOINT_URL_S3 and `s3 = endpoint_url` in a `[services]` section point it elsewhere.
    public static let s3 = ServiceEndpointInfo(serviceId: "S3", endpointPrefix: "s3", signingName: "s3")
}

extension AWSSettings {
    /// The profile's `s3 =` block and AWS_S3_US_EAST_1_REGIONAL_ENDPOINT; a clear error for a value the CLI refuses.
    public func s3Settings() throws -> S3Settings {
        let block = config.profileSettings(profile, block: "s3")
        let where_ = "the s3 block of \(profile.configLocation)"
        var out = S3Settings()
        if let raw = nonEmpty(block["addressing_style"]) {
            guard let style = S3Settings.AddressingStyle(rawValue: raw) else {
                throw AWSConfigError(.invalidValue, "addressing_style = \(excerpt(raw, limit: 40)) in \(where_) is not "
                    + "valid; use auto, virtual or path")
            }
            out.addressingStyle = style
        }
        let (raw, source) = nonEmpty(environment["AWS_S3_US_EAST_1_REGIONAL_ENDPOINT"])
            .map { ($0, "AWS_S3_US_EAST_1_REGIONAL_ENDPOINT") }
            ?? nonEmpty(block["us_east_1_regional_endpoint"]).map { ($0, "us_east_1_regional_endpoint in \(where_)") }
            ?? ("legacy", "")
        guard raw == "regional" || raw == "legacy" else {
            throw AWSConfigError(.invalidValue, "\(source) = \(excerpt(raw, limit: 40)) is not valid; use regional or legacy")
        }
        out.usEast1Regional = raw == "regional"
        return out
    }
}
