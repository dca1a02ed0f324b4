import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the ledger may be before clonectl trusts it. The ledger decides what `run` resumes and what `cleanup`
/// touches, so a file someone else can write, or a symlink someone planted, is refused, each time with the fix.
enum LedgerTrust {
    /// The folder: a real folder (not a symlink), the user's own, that nobody else can write; or a sticky folder
    /// such as /tmp owned by root or the user, where others cannot replace what is ours.
    static func checkFolder(_ folder: String, ledger: String) throws {
        var info = stat()
        guard lstat(folder, &info) == 0 else { return }  // created by the caller with 0700
        let mode = info.st_mode
        if mode & S_IFMT == S_IFLNK {
            throw LedgerError.invalid("the ledger's folder \(folder) is a symlink; clonectl does not follow one to its ledger. "
                + "Use a real folder: pass --ledger with a path of your own (e.g. ~/.local/state/clonectl/ledger.sqlite)")
        }
        guard mode & S_IFMT == S_IFDIR else {
            throw LedgerError.invalid("the ledger's folder \(folder) is not a folder; pass --ledger with a path of your own")
        }
        let sticky = mode & S_ISVTX != 0
        let owner = info.st_uid
        guard owner == getuid() || (owner == 0 && sticky) else {
            throw LedgerError.invalid("the ledger's folder \(folder) belongs to user id \(owner), not to you (\(getuid())): "
                + "its owner could replace the ledger. Pass --ledger with a path in a folder of your own")
        }
        if mode & (S_IWGRP | S_IWOTH) != 0 && !sticky {
            throw LedgerError.invalid("the ledger's folder \(folder) is writable by \(writers(mode)), who could replace the ledger; "
                + "run: chmod go-w '\(folder)' (or pass --ledger with a path in a private folder)")
        }
    }

    /// The file, when it exists: a regular file (never a symlink), the user's own, writable by nobody else.
    static func checkFile(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        let mode = info.st_mode
        if mode & S_IFMT == S_IFLNK {
            throw LedgerError.invalid("the ledger \(path) is a symlink; clonectl does not follow one (it could point at a file "
                + "of someone else's choosing). Remove the link, or pass --ledger with the real file's path")
        }
        guard mode & S_IFMT == S_IFREG else {
            throw LedgerError.invalid("the ledger \(path) is not a regular file; pass --ledger with the path of a ledger file")
        }
        guard info.st_uid == getuid() else {
            throw LedgerError.invalid("the ledger \(path) belongs to user id \(info.st_uid), not to you (\(getuid())); "
                + "use a ledger of your own with --ledger, or have its owner run clonectl")
        }
        if mode & (S_IWGRP | S_IWOTH) != 0 {
            throw LedgerError.invalid("the ledger \(path) is writable by \(writers(mode)), who could rewrite what runs and "
                + "cleanups act on; run: chmod 600 '\(path)'")
        }
    }

    /// True when the file exists and this user may not write it, or its mode says nobody should (root may write
    /// anything, but a ledger made read-only on purpose is left alone): a read command can still read it.
    static func isReadOnly(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return access(path, W_OK) != 0 || info.st_mode & S_IWUSR == 0
    }

    static func writers(_ mode: mode_t) -> String {
        switch (mode & S_IWGRP != 0, mode & S_IWOTH != 0) {
        case (true, true): return "its group and everyone"
        case (true, false): return "its group"
        default: return "everyone"
        }
    }
}
