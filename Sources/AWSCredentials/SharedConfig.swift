import Foundation

/// The contents of ~/.aws/config and ~/.aws/credentials, located the way the AWS CLI locates them.
///
/// Files are read once, when settings are resolved; a missing file is simply empty, like the CLI treats it.
public struct SharedConfig: Sendable {
    /// How each file is named in messages: `~/.aws/config` when under HOME, otherwise the full path.
    public let configLabel: String
    public let credentialsLabel: String
    /// Profiles by name from the config file (`[default]`, `[profile dev]`) and from the credentials file (`[dev]`).
    let configProfiles: [String: [String: String]]
    let credentialsProfiles: [String: [String: String]]
    /// `[services name]` sections: section name -> service key (`ssm`) -> nested settings.
    let services: [String: [String: [String: String]]]
    /// Config-file sections the CLI ignores, kept to explain a common mistake: `[dev]` instead of `[profile dev]`.
    let ignoredConfigSections: Set<String>
    /// Things that parse but are probably not what the user meant (a `#` comment after a value, both `[default]` and
    /// `[profile default]`): printed to standard error by the CLI, never fatal.
    public internal(set) var warnings: [String] = []
    /// Nested blocks of each `[profile name]` (`s3 =` with indented settings): profile -> block -> settings.
    public internal(set) var profileSubsections: [String: [String: [String: String]]] = [:]

    public init(configLabel: String = "config", credentialsLabel: String = "credentials",
                configProfiles: [String: [String: String]] = [:], credentialsProfiles: [String: [String: String]] = [:],
                services: [String: [String: [String: String]]] = [:], ignoredConfigSections: Set<String> = []) {
        self.configLabel = configLabel
        self.credentialsLabel = credentialsLabel
        self.configProfiles = configProfiles
        self.credentialsProfiles = credentialsProfiles
        self.services = services
        self.ignoredConfigSections = ignoredConfigSections
    }

    /// Reads both files: AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and ~/.aws/credentials,
    /// with `~` expanded from the HOME in `environment` (never from the process, so tests stay hermetic).
    public static func load(environment: [String: String]) throws -> SharedConfig {
        let home = nonEmpty(environment["HOME"])
        let configPath = expandTilde(nonEmpty(environment["AWS_CONFIG_FILE"]) ?? "~/.aws/config", home: home)
        let credentialsPath = expandTilde(
            nonEmpty(environment["AWS_SHARED_CREDENTIALS_FILE"]) ?? "~/.aws/credentials", home: home)
        let configLabel = displayPath(configPath, home: home, fallback: "~/.aws/config")
        let credentialsLabel = displayPath(credentialsPath, home: home, fallback: "~/.aws/credentials")

        var configProfiles: [String: [String: String]] = [:]
        var services: [String: [String: [String: String]]] = [:]
        var profileSubsections: [String: [String: [String: String]]] = [:]
        var ignored: Set<String> = []
        var warnings: [String] = []
        if let text = try readIfPresent(configPath, label: configLabel) {
            let sections = try ConfigFileParser.parse(text, kind: .config, label: configLabel, warnings: &warnings)
            // `[default]` and `[profile default]` both name the default profile. As in the AWS CLI (botocore's
            // build_profile_map), the section that comes later in the file replaces the earlier one whole.
            var defaultHeader: String?
            for section in sections {
                let header = section.header
                let profileName = header == "default" ? "default" : suffix(of: header, after: "profile")
                if let name = profileName, name == "default" {
                    let form = header == "default" ? "[default]" : "[profile default]"
                    if let earlier = defaultHeader, earlier != form {
                        warnings.append("\(configLabel) has both [default] and [profile default]; as in the AWS CLI, "
                            + "\(form) (line \(section.line)) replaces \(earlier) whole: keep only one of them")
                        configProfiles["default"] = section.values
                        profileSubsections["default"] = section.subsections
                    } else {
                        configProfiles["default", default: [:]].merge(section.values) { _, new in new }
                        profileSubsections["default", default: [:]].merge(section.subsections) { _, new in new }
                    }
                    defaultHeader = form
                } else if let name = profileName {
                    configProfiles[name, default: [:]].merge(section.values) { _, new in new }
                    profileSubsections[name, default: [:]].merge(section.subsections) { _, new in new }
                } else if let name = suffix(of: header, after: "services") {
                    services[name, default: [:]].merge(section.subsections) { _, new in new }
                } else if suffix(of: header, after: "sso-session") == nil {
                    ignored.insert(header)
                }
                // `[sso-session x]` and anything else are tolerated and ignored, as the CLI does for our purposes.
            }
        }
        var credentialsProfiles: [String: [String: String]] = [:]
        if let text = try readIfPresent(credentialsPath, label: credentialsLabel) {
            for section in try ConfigFileParser.parse(text, kind: .credentials, label: credentialsLabel,
                                                      warnings: &warnings) {
                credentialsProfiles[section.header, default: [:]].merge(section.values) { _, new in new }
            }
        }
        var config = SharedConfig(configLabel: configLabel, credentialsLabel: credentialsLabel,
                                  configProfiles: configProfiles, credentialsProfiles: credentialsProfiles,
                                  services: services, ignoredConfigSections: ignored)
        config.warnings = warnings
        config.profileSubsections = profileSubsections
        return config
    }

    /// Every profile named in either file, sorted.
    public var profileNames: [String] {
        Set(configProfiles.keys).union(credentialsProfiles.keys).sorted()
    }

    public func hasProfile(_ name: String) -> Bool {
        configProfiles[name] != nil || credentialsProfiles[name] != nil
    }

    /// The named profile, or an empty one when it exists nowhere (fine for an implicit `default`).
    public func profile(_ name: String) -> ConfigProfile {
        ConfigProfile(name: name, configValues: configProfiles[name] ?? [:],
                      credentialsValues: credentialsProfiles[name] ?? [:],
                      configLabel: configLabel, credentialsLabel: credentialsLabel)
    }

    /// The named profile; an error listing the profiles that do exist when it is in neither file.
    public func requireProfile(_ name: String) throws -> ConfigProfile {
        guard hasProfile(name) else {
            let names = profileNames
            let available = names.isEmpty ? "no profiles are defined" : "available profiles: " + names.joined(separator: ", ")
            let hint = ignoredConfigSections.contains(name)
                ? "; \(configLabel) has a section [\(name)], but in the config file profiles are written [profile \(name)]"
                : ""
            throw AWSConfigError(.unknownProfile,
                "profile '\(name)' not found in \(configLabel) or \(credentialsLabel) (\(available))\(hint); "
                + "pick another with --profile or AWS_PROFILE, or create it with 'aws configure --profile \(name)'")
        }
        return profile(name)
    }

    /// A nested block of a profile in the config file (`s3 =` then indented `addressing_style = path`).
    public func profileSettings(_ profile: ConfigProfile, block: String) -> [String: String] {
        profileSubsections[profile.name]?[block] ?? [:]
    }

    /// The nested settings for one service in the `[services name]` section a profile points to with `services =`.
    public func serviceSettings(for profile: ConfigProfile, serviceKey: String) -> [String: String]? {
        guard let sectionName = profile["services"] else { return nil }
        return services[sectionName]?[serviceKey]
    }

    /// `services = NAME` must name a `[services NAME]` section that exists, as the AWS CLI insists: a typo would
    /// otherwise send every call to the public endpoints instead of the VPC endpoints the section lists.
    public func checkServicesSection(of profile: ConfigProfile) throws {
        guard let name = profile["services"], services[name] == nil else { return }
        let known = services.keys.sorted()
        let hint = known.isEmpty ? "the file has no [services ...] section" : "sections there: " + known.map { "[services \($0)]" }.joined(separator: ", ")
        throw AWSConfigError(.invalidValue, "services = \(excerpt(name, limit: 60)) in \(profile.origin(of: "services")) "
            + "names a [services \(excerpt(name, limit: 60))] section that is not in \(configLabel) (\(hint)); "
            + "fix the name or add the section")
    }

    static func suffix(of header: String, after keyword: String) -> String? {
        guard header.hasPrefix(keyword), let first = header.dropFirst(keyword.count).first,
              first == " " || first == "\t" else { return nil }
        var name = header.dropFirst(keyword.count).trimmingCharacters(in: .whitespaces)
        if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") { name = String(name.dropFirst().dropLast()) }
        return name.isEmpty ? nil : name
    }

    static func readIfPresent(_ path: String?, label: String) throws -> String? {
        guard let path else { return nil }  // `~` with no HOME: nothing to read
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue {
            throw AWSConfigError(.unreadableFile, "\(label) is a directory, not a file; remove it or point "
                + "AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE at the real file")
        }
        // /dev/null is the usual way to say "no file" (the AWS CLI reads it as a missing file); any other device,
        // FIFO or socket is refused before it is read: /dev/zero never ends, a FIFO may never answer.
        if let type = try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType,
           type != .typeRegular {
            if path == "/dev/null" { return nil }
            throw AWSConfigError(.unreadableFile, "\(label) is not a regular file (\(type.rawValue)); point "
                + "AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE at a file, or at /dev/null for none")
        }
        guard FileManager.default.isReadableFile(atPath: path), let data = FileManager.default.contents(atPath: path)
        else {
            throw AWSConfigError(.unreadableFile, "cannot read \(label): permission denied; make it readable by "
                + "this user (chmod 600 \(label)) or point the AWS_*_FILE variable at a readable copy")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw AWSConfigError(.unreadableFile, "\(label) is not valid UTF-8 text; re-save it as UTF-8")
        }
        return text
    }
}

/// `~` and `~/x` expanded with `home`; nil when expansion is needed but there is no home.
func expandTilde(_ path: String, home: String?) -> String? {
    guard path == "~" || path.hasPrefix("~/") else { return path }
    guard let home else { return nil }
    return home + path.dropFirst()
}

/// A path as users recognise it: under HOME it starts with `~`.
func displayPath(_ path: String?, home: String?, fallback: String) -> String {
    guard let path else { return "\(fallback) (HOME is not set)" }
    if let home, home != "/", path.hasPrefix(home + "/") { return "~" + path.dropFirst(home.count) }
    return path
}
