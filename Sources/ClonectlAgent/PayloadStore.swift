import ClonectlCrypto
import Foundation

/// The released payloads on disk (a ps-scripts folder and its manifest), read only after their hash is checked.
///
/// Every byte that goes into a loader passes through `readVerified`, so a file edited without a version bump
/// can never be sent: the run it belongs to would no longer be reproducible from its recorded version.
public struct PayloadStore: Sendable {
    public static let environmentVariable = "CLONECTL_PAYLOADS"

    /// The ps-scripts folder.
    public let root: URL
    public let manifest: Manifest

    /// Opens `root` (a folder holding manifest.json) and parses its manifest.
    public init(root: URL) throws(AgentError) {
        self.root = root
        let file = root.appendingPathComponent("manifest.json")
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw AgentError(.payloadsNotFound,
                             "\(file.path) does not exist or cannot be read; point --payloads (or \(Self.environmentVariable)) at a ps-scripts folder holding manifest.json")
        }
        manifest = try Manifest.parse([UInt8](data), file: file.path)
    }

    /// Finds ps-scripts: `explicit` (from --payloads), else $CLONECTL_PAYLOADS, else an installed copy at
    /// <executable dir>/../share/clonectl/ps-scripts, else the first ps-scripts/manifest.json found walking up
    /// from the executable (a source checkout running .build/debug/clonectl).
    public static func locate(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                              executable: URL? = Bundle.main.executableURL) throws(AgentError) -> URL {
        if let explicit, !explicit.isEmpty { return try checked(explicit, source: "--payloads") }
        if let env = environment[environmentVariable], !env.isEmpty { return try checked(env, source: environmentVariable) }
        var tried: [String] = []
        if let executable {
            let binDir = executable.resolvingSymlinksInPath().deletingLastPathComponent()
            let installed = binDir.deletingLastPathComponent().appendingPathComponent("share/clonectl/ps-scripts")
            if hasManifest(installed) { return installed.standardizedFileURL }
            tried.append(installed.standardizedFileURL.path)
            var dir = binDir
            while dir.path != "/" && !dir.path.isEmpty {
                let candidate = dir.appendingPathComponent("ps-scripts")
                if hasManifest(candidate) { return candidate }
                dir.deleteLastPathComponent()
            }
            tried.append("ps-scripts/ in every folder above \(binDir.path)")
        }
        throw AgentError(.payloadsNotFound,
                         "no ps-scripts folder with manifest.json found (looked at: \(tried.joined(separator: "; "))); pass --payloads DIR or set \(environmentVariable)")
    }

    static func hasManifest(_ dir: URL) -> Bool {
        FileManager.default.fileExists(atPath: dir.appendingPathComponent("manifest.json").path)
    }

    static func checked(_ path: String, source: String) throws(AgentError) -> URL {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        guard hasManifest(url) else {
            throw AgentError(.payloadsNotFound,
                             "\(source) names '\(path)', which holds no manifest.json; point it at the ps-scripts folder")
        }
        return url
    }

    /// Every version of `name`, oldest first.
    public func versions(of name: String) -> [Manifest.Payload] {
        manifest.payloads.filter { $0.name == name }
            .sorted { SemanticVersion($0.version)! < SemanticVersion($1.version)! }
    }

    /// The entry for `NAME[@VERSION]`; without a version, the highest one.
    public func resolve(_ reference: String) throws(AgentError) -> Manifest.Payload {
        let (name, version) = try PayloadNames.parseReference(reference)
        let all = versions(of: name)
        guard let latest = all.last else {
            let known = Set(manifest.payloads.map(\.name)).sorted().joined(separator: ", ")
            throw AgentError(.unknownPayload, "no payload named '\(name)' in the manifest (known: \(known))")
        }
        guard let version else { return latest }
        guard let entry = all.first(where: { $0.version == version }) else {
            throw AgentError(.unknownPayload,
                             "\(name) has no version \(version) (released: \(all.map(\.version).joined(separator: ", ")))")
        }
        return entry
    }

    /// The exact bytes at `path` (relative to root), refused unless their SHA-256 is `sha256`.
    public func readVerified(path: String, sha256 expected: String) throws(AgentError) -> [UInt8] {
        let url = root.appendingPathComponent(path)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw AgentError(.unreadableFile, "\(url.path) is listed in the manifest but cannot be read; restore it")
        }
        let bytes = [UInt8](data)
        let actual = Hex.encode(Crypto.sha256(bytes))
        guard actual == expected else { throw Self.mismatch(file: url.path, expected: expected, actual: actual) }
        return bytes
    }

    static func mismatch(file: String, expected: String, actual: String) -> AgentError {
        AgentError(.hashMismatch,
                   "\(file): SHA-256 is \(actual) but the manifest says \(expected): changed without a version bump? Restore the released bytes, or release the change as a new version with its own manifest entry")
    }

    public func payloadBytes(_ entry: Manifest.Payload) throws(AgentError) -> [UInt8] {
        try readVerified(path: entry.path, sha256: entry.sha256)
    }

    /// The agent module the payload was released with.
    public func module(for entry: Manifest.Payload) throws(AgentError) -> (file: Manifest.File, bytes: [UInt8]) {
        guard let file = manifest.module(version: entry.module) else {
            throw AgentError(.badManifest, "\(entry.reference) needs module \(entry.module), which the manifest does not list")
        }
        return (file, try readVerified(path: file.path, sha256: file.sha256))
    }

    /// The newest loader template.
    public func loaderTemplate() throws(AgentError) -> (file: Manifest.File, bytes: [UInt8]) {
        let file = manifest.loader
        return (file, try readVerified(path: file.path, sha256: file.sha256))
    }

    /// The loader template `entry` was released with (see `Manifest.loader(forModule:)`).
    public func loaderTemplate(for entry: Manifest.Payload) throws(AgentError) -> (file: Manifest.File, bytes: [UInt8]) {
        let file = manifest.loader(forModule: entry.module)
        return (file, try readVerified(path: file.path, sha256: file.sha256))
    }

    /// Checks a plan's pins (payload name -> version): an unknown payload or version is an error; a superseded
    /// version gives one warning line each, naming the reason and the version that replaces it.
    public func pinWarnings(_ pins: [(name: String, version: String)]) throws(AgentError) -> [String] {
        var warnings: [String] = []
        for pin in pins {
            let entry = try resolve("\(pin.name)@\(pin.version)")
            if let reason = entry.superseded {
                let latest = versions(of: pin.name).last!.version
                warnings.append("warning: the plan pins \(entry.reference), which is superseded (latest \(latest)): \(reason)")
            }
        }
        return warnings
    }
}
