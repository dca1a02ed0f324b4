import ClonectlCrypto
import Foundation

/// `clonectl payloads verify`: every manifest entry's bytes against its hash, and every script file that no
/// entry lists (a new payload or version someone forgot to release, or an old one edited under a new name).
public struct PayloadAudit: Sendable {
    public struct Problem: Equatable, Sendable, CustomStringConvertible {
        /// Path relative to ps-scripts/.
        public let path: String
        public let message: String
        public var description: String { "\(path): \(message)" }
    }

    /// How many files were checked against a manifest hash.
    public let checked: Int
    public let problems: [Problem]
    public var ok: Bool { problems.isEmpty }

    /// Folders whose .ps1/.psm1 files must all be listed in the manifest.
    public static let releasedFolders = ["payloads", "agent", "loader"]

    public static func run(_ store: PayloadStore) -> PayloadAudit {
        var problems: [Problem] = []
        var listed = Set<String>()
        let manifest = store.manifest
        let entries: [(what: String, path: String, sha256: String)] =
            manifest.loaders.map { ("loader \($0.version)", $0.path, $0.sha256) }
            + manifest.modules.map { ("module \($0.version)", $0.path, $0.sha256) }
            + manifest.payloads.map { ($0.reference, $0.path, $0.sha256) }
        for entry in entries {
            listed.insert(entry.path)
            let url = store.root.appendingPathComponent(entry.path)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                problems.append(Problem(path: entry.path,
                                        message: "missing (\(entry.what) is in the manifest); restore the released file"))
                continue
            }
            let actual = Hex.encode(Crypto.sha256([UInt8](data)))
            if actual != entry.sha256 {
                problems.append(Problem(path: entry.path,
                                        message: "\(entry.what): SHA-256 is \(actual), manifest says \(entry.sha256): changed without a version bump? Restore it, or release the change as a new version"))
            }
        }
        for path in scriptFiles(under: store.root) where !listed.contains(path) {
            problems.append(Problem(path: path,
                                    message: "not listed in manifest.json: add an entry with its SHA-256 (a new version) or remove the file"))
        }
        return PayloadAudit(checked: entries.count, problems: problems.sorted { $0.path < $1.path })
    }

    /// Relative paths of the .ps1/.psm1 files under the released folders, sorted.
    static func scriptFiles(under root: URL) -> [String] {
        var found: [String] = []
        for folder in releasedFolders {
            let base = root.appendingPathComponent(folder)
            guard let walker = FileManager.default.enumerator(atPath: base.path) else { continue }
            while let relative = walker.nextObject() as? String {
                guard relative.hasSuffix(".ps1") || relative.hasSuffix(".psm1") else { continue }
                found.append("\(folder)/\(relative)")
            }
        }
        return found.sorted()
    }
}
