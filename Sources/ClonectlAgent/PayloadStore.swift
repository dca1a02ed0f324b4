import ClonectlCrypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

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

    /// Finds ps-scripts, from these places only: `explicit` (from --payloads), else $CLONECTL_PAYLOADS, else the
    /// installed copy at <executable dir>/../share/clonectl/ps-scripts, else, for a binary running from a checkout's
    /// `.build` folder, that checkout's ps-scripts. Never a search upwards through folders anyone may have made.
    /// The folder found must be trustworthy (`checkTrust`): the payloads it holds are run as SYSTEM on every clone.
    public static func locate(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                              executable: URL? = Bundle.main.executableURL) throws(AgentError) -> URL {
        if let explicit, !explicit.isEmpty { return try checked(explicit, source: "--payloads") }
        if let env = environment[environmentVariable], !env.isEmpty { return try checked(env, source: environmentVariable) }
        var tried: [String] = []
        if let executable {
            let resolved = executable.resolvingSymlinksInPath()
            let binDir = resolved.deletingLastPathComponent()
            let installed = binDir.deletingLastPathComponent().appendingPathComponent("share/clonectl/ps-scripts").standardizedFileURL
            if hasManifest(installed) { return try checked(installed.path, source: "the installed copy") }
            tried.append(installed.path)
            // <checkout>/.build/<triple>/debug/clonectl or <checkout>/.build/debug/clonectl: the checkout's own payloads.
            let parts = resolved.pathComponents
            if let build = parts.lastIndex(of: ".build"), build > 0 {
                let checkout = URL(fileURLWithPath: NSString.path(withComponents: Array(parts[..<build])))
                let candidate = checkout.appendingPathComponent("ps-scripts").standardizedFileURL
                if hasManifest(candidate) { return try checked(candidate.path, source: "the build's checkout") }
                tried.append(candidate.path)
            }
        }
        throw AgentError(.payloadsNotFound,
                         "no ps-scripts folder with manifest.json found (looked at: \(tried.isEmpty ? "nothing" : tried.joined(separator: "; "))); pass --payloads DIR or set \(environmentVariable)")
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
        try checkTrust(url, source: source)
        return url
    }

    /// The folder, its manifest and the folder above it must belong to root or to this user and be writable by
    /// nobody else: whoever can change the manifest chooses what runs on the clones (the hashes come from it).
    static func checkTrust(_ root: URL, source: String) throws(AgentError) {
        let me = getuid()
        for path in [root.deletingLastPathComponent().path, root.path, root.appendingPathComponent("manifest.json").path] {
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            let sticky = info.st_mode & S_ISVTX != 0
            if info.st_uid != 0 && info.st_uid != me {
                throw AgentError(.payloadsNotFound, "\(path) (payloads from \(source)) belongs to user id \(info.st_uid), "
                    + "neither root nor you: its owner could change what runs on the clones. Use a copy of your own "
                    + "(cp -r) and pass it with --payloads, or have root own it")
            }
            if info.st_mode & (S_IWGRP | S_IWOTH) != 0 && !sticky {
                throw AgentError(.payloadsNotFound, "\(path) (payloads from \(source)) is writable by "
                    + "\(info.st_mode & S_IWOTH != 0 ? "everyone" : "its group"): anyone there could change what runs on "
                    + "the clones. Run: chmod go-w '\(path)'")
            }
        }
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
