import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `credential_process = command`: runs the command and reads credentials from its standard output.
///
/// As in the AWS CLI, the command is split into words with POSIX shell rules (quotes and backslashes; no variables,
/// no `~`) and executed directly, without a shell; PATH comes from the injected environment. Output must be
/// `{"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken"?, "Expiration"?}`. Errors include the
/// program's stderr (helpers explain themselves there) but never its stdout, which holds secrets, nor its arguments.
public struct ProcessCredentialProvider: CredentialProvider {
    public let command: String
    public let profileName: String
    public let environment: [String: String]
    public let timeout: Duration
    let now: @Sendable () -> Date

    public init(command: String, profileName: String, environment: [String: String], timeout: Duration = .seconds(60),
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.command = command
        self.profileName = profileName
        self.environment = environment
        self.timeout = timeout
        self.now = now
    }

    /// How the command is named in messages: its program only, since arguments can carry passwords. A first word
    /// shaped `NAME=value` is named by NAME alone: its value may be the password.
    var what: String {
        let words = (try? ShellWords.split(command)) ?? command.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let program = words.first else { return "credential_process of profile \(profileName)" }
        if ShellWords.isAssignment(program) {
            let name = program.prefix { $0 != "=" }
            return "credential_process of profile \(profileName) (which starts with \(excerpt(String(name), limit: 40))=...)"
        }
        return "credential_process '\(excerpt(program, limit: 80))' of profile \(profileName)"
    }

    public func credentials() async throws -> AWSCredentials {
        let words: [String]
        do { words = try ShellWords.split(command) } catch {
            throw AWSConfigError(.credentialProcess, "\(what) cannot be split into words: \(error.reason); "
                + "it is read like a shell command line (quotes and backslashes), but no shell runs it")
        }
        guard let program = words.first else {
            throw AWSConfigError(.credentialProcess, "credential_process of profile \(profileName) is empty; name the helper program")
        }
        if ShellWords.isAssignment(program) {
            throw AWSConfigError(.credentialProcess, "\(what): no shell runs credential_process (as in the AWS CLI), so a "
                + "leading NAME=value does not set a variable; set it in the environment, or write "
                + "credential_process = sh -c '...' if a shell is really wanted")
        }
        let result: ChildProcess.Result
        do {
            result = try await ChildProcess.run(arguments: words, environment: environment, timeout: timeout)
        } catch let error as ChildProcess.SpawnError {
            throw AWSConfigError(.credentialProcess, "\(what) could not be started: \(error.reason)"
                + (program.contains("/") ? "" : " (PATH: \(excerpt(environment["PATH"] ?? "unset", limit: 200)))"))
        }
        let stderr = excerpt(String(decoding: result.stderr, as: UTF8.self), limit: 500)
        let stderrNote = stderr.isEmpty ? "" : "; its stderr said: \(stderr)"
        if result.timedOut {
            throw AWSConfigError(.credentialProcess, "\(what) did not finish within \(seconds(timeout)) s "
                + "and was stopped\(stderrNote); check that it does not wait for input")
        }
        guard result.status == 0 else {
            throw AWSConfigError(.credentialProcess, "\(what) failed with exit status \(result.status)\(stderrNote)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any] else {
            throw AWSConfigError(.credentialProcess, "\(what) did not print a JSON object on stdout "
                + "(\(result.stdout.count) bytes; content not shown because it may hold a secret)\(stderrNote)")
        }
        switch object["Version"] {
        case let number as NSNumber where number.intValue == 1 && "\(number)" == "1":
            break
        case nil:
            throw AWSConfigError(.credentialProcess, "\(what) printed JSON without \"Version\": 1; "
                + "the credential_process format requires it")
        default:
            throw AWSConfigError(.credentialProcess, "\(what) printed an unsupported Version; only 1 is supported")
        }
        let credentials = try CredentialJSON.parse(result.stdout, tokenKey: "SessionToken",
                                                   source: "process profile \(profileName)", what: what,
                                                   kind: .credentialProcess)
        // Fresh credentials that are already expired would fail every call with ExpiredToken, or be fetched again
        // at once in a loop: say which helper hands out stale ones.
        if let expiration = credentials.expiration, expiration <= now() {
            throw AWSConfigError(.credentialProcess, "\(what) returned credentials that had already expired "
                + "(Expiration \(CredentialJSON.format(expiration)), now \(CredentialJSON.format(now()))); "
                + "the helper may be serving a stale cache: refresh its session, and check this machine's clock")
        }
        return credentials
    }
}

/// A duration as seconds for messages: "60", "0.5".
func seconds(_ duration: Duration) -> String {
    let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    return value == value.rounded() ? String(Int(value)) : String(value)
}
