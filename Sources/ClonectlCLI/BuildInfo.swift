/// What this binary is, for an incident report: its version, the commit and date it was built from, and the payload
/// set (the SHA-256 of ps-scripts/manifest.json) it shipped with.
///
/// The three stamped values are written into a staged copy of the sources by scripts/release.sh, which builds from
/// `git archive` of a commit, never from a working tree; a development build (`swift build`) keeps the defaults below
/// and says so. A test of the release checks that the stamp reached the binary.
public enum BuildInfo {
    public static let version = "0.2.0"
    public static let commit = "development build"
    public static let buildDate = "unknown"
    public static let payloadManifestSHA256 = "unknown"

    /// True for a binary built by scripts/release.sh.
    public static var isRelease: Bool { commit != "development build" }

    /// What `clonectl --version` prints.
    public static var text: String {
        """
        clonectl \(version)
        commit: \(commit)
        built: \(buildDate)
        payload set: manifest.json sha256 \(payloadManifestSHA256)
        """
    }
}
