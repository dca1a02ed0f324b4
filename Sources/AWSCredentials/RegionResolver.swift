import Foundation

/// A region and where it was found, for messages such as "region eu-west-1 (from AWS_REGION)".
public struct ResolvedRegion: Sendable, Equatable, CustomStringConvertible {
    public let name: String
    public let source: String
    public init(name: String, source: String) {
        self.name = name
        self.source = source
    }
    public var description: String { "\(name) (from \(source))" }
}

/// Region precedence, as the AWS CLI: `--region` > AWS_REGION > AWS_DEFAULT_REGION > the profile's `region`.
public enum RegionResolver {
    public static func resolve(explicit: String?, environment: [String: String],
                               profile: ConfigProfile) throws -> ResolvedRegion {
        let candidates: [(String?, String)] = [
            (nonEmpty(explicit), "--region"),
            (nonEmpty(environment["AWS_REGION"]), "AWS_REGION"),
            (nonEmpty(environment["AWS_DEFAULT_REGION"]), "AWS_DEFAULT_REGION"),
            (profile["region"], profile.origin(of: "region")),
        ]
        for case let (value?, source) in candidates {
            try validate(value, source: source)
            return ResolvedRegion(name: value, source: source)
        }
        throw AWSConfigError(.noRegion, "no region: pass --region, set AWS_REGION, or add 'region = us-east-1' "
            + "(your region) to \(profile.configLocation)")
    }

    /// Accepts every partition's shape (us-east-1, cn-north-1, us-gov-west-1, us-isob-east-1, eu-isoe-west-1)
    /// and rejects the usual mistakes: an availability zone, upper case, a missing number, a URL.
    public static func validate(_ name: String, source: String) throws {
        guard name.wholeMatch(of: #/[a-z]{2}(-[a-z]+)+-[0-9]{1,2}/#) != nil else {
            var hint = "expected a region name such as us-east-1 or eu-west-2"
            if name.wholeMatch(of: #/[a-z]{2}(-[a-z]+)+-[0-9]{1,2}[a-z]/#) != nil {
                hint = "that looks like an availability zone; drop the final letter (\(name.dropLast()))"
            } else if name.lowercased() != name {
                hint = "region names are lower case (\(name.lowercased()))"
            }
            throw AWSConfigError(.invalidRegion,
                "region '\(excerpt(name, limit: 60))' from \(source) is not a valid AWS region: \(hint)")
        }
    }
}
