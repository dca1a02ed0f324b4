import AWSSigV4
import ClonectlAgent
import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `clonectl debug sigv4`: signs a raw HTTP/1.1 request read from stdin and prints every SigV4 stage, to compare
/// with what a service says it expected ("The canonical request should have been ...").
public struct DebugSigV4Command: ParsableCommand, SelectsOutput {
    public static let configuration = CommandConfiguration(
        commandName: "sigv4",
        abstract: "Sign a raw HTTP request from stdin and print the SigV4 stages.",
        discussion: """
            Reads a raw HTTP/1.1 request on stdin (request line, 'Name: value' headers, a blank line, the body) \
            and prints the canonical request, the string to sign, the signature and the Authorization header.

            Secrets: pass the secret key in the environment as AWS_SECRET_ACCESS_KEY rather than with \
            --secret-access-key, so it stays off the command line; likewise AWS_SESSION_TOKEN for --session-token. \
            Neither is ever printed. When the session token is signed, the canonical request shows its value as \
            <session-token>; the string to sign and the signature are computed from the real value.

            Example:
              printf 'GET / HTTP/1.1\\r\\nHost: example.amazonaws.com\\r\\n\\r\\n' |
                clonectl debug sigv4 --region us-east-1 --service iam \\
                  --time 2015-08-30T12:36:00Z --access-key-id AKIDEXAMPLE
            """)

    @Option(help: "The signing region, e.g. us-east-1.")
    var region: String

    @Option(help: "The signing service name, e.g. ssm, ec2, sts.")
    var service: String

    @Option(help: "The signing time, ISO-8601 UTC such as 2015-08-30T12:36:00Z (default: now).")
    var time: String?

    @Option(help: "The access key ID.")
    var accessKeyId: String

    @Option(help: "The secret access key (default: $AWS_SECRET_ACCESS_KEY; prefer the environment).")
    var secretAccessKey: String?

    @Option(help: "A session token to sign as x-amz-security-token (default: $AWS_SESSION_TOKEN if set).")
    var sessionToken: String?

    @Flag(help: "Add the session token after signing instead of signing it.")
    var omitSessionToken = false

    @Flag(help: "Add and sign an x-amz-content-sha256 header.")
    var signBody = false

    @Flag(name: .customLong("no-normalize-path"),
          help: "Keep '.', '..' and repeated slashes in the canonical URI and do not double-encode it (S3).")
    var noNormalizePath = false

    @Option(help: "Output format: text (labelled sections) or json (one document, for scripts; default: CLONECTL_OUTPUT, else text).")
    var output: OutputFormat?

    var outputFormat: OutputFormat { OutputFormat.defaulted(output) }

    public init() {}

    public func validate() throws {
        if let time, SigV4.parseISO8601(time) == nil {
            throw ValidationError("--time '\(time)' is not an ISO-8601 UTC time; use the form 2015-08-30T12:36:00Z")
        }
        if region.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--region must not be empty") }
        if service.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--service must not be empty")
        }
        if accessKeyId.isEmpty { throw ValidationError("--access-key-id must not be empty") }
        // The secret may come from the environment, which `render` is given, so it is checked there.
    }

    public func run() throws {
        // A terminal on stdin would wait for input nobody knows to type: say what is expected instead.
        if isatty(STDIN_FILENO) == 1 {
            throw ValidationError("pipe a raw HTTP request into stdin, e.g. "
                + "printf 'GET / HTTP/1.1\\r\\nHost: example.amazonaws.com\\r\\n\\r\\n' | clonectl debug sigv4 ...")
        }
        let input = FileHandle.standardInput.readDataToEndOfFile()
        Console.write(try render(requestBytes: Array(input), environment: ProcessInfo.processInfo.environment, now: Date()),
                      to: .out)
    }

    /// Signs `requestBytes` and returns the text to print; throws `ValidationError` for empty or malformed input
    /// and for a missing secret key (`environment` stands in for the process environment).
    public func render(requestBytes: [UInt8], environment: [String: String], now: Date) throws -> String {
        let secretKey = try secret(environment: environment)
        if requestBytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0a || $0 == 0x0d }) {
            throw ValidationError("stdin is empty: pipe a raw HTTP/1.1 request (request line, headers, blank line, body)")
        }
        let request: SigV4Request
        do { request = try SigV4.parseRawHTTPRequest(requestBytes) } catch {
            throw ValidationError("stdin is not a raw HTTP request: \(error)")
        }
        let token = sessionToken ?? environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let credentials = SigV4Credentials(accessKeyId: accessKeyId, secretAccessKey: secretKey,
                                           sessionToken: token)
        let date = time.flatMap(SigV4.parseISO8601) ?? now
        let options = SigV4Options(normalizePath: !noNormalizePath, uriEncodePath: !noNormalizePath,
                                   signBody: signBody, omitSessionToken: omitSessionToken)
        let result = SigV4.sign(request, credentials: credentials, region: region, service: service, date: date,
                                options: options)
        return try format(result, token: token)
    }

    private func secret(environment: [String: String]) throws -> String {
        if let secretAccessKey, !secretAccessKey.isEmpty { return secretAccessKey }
        if let fromEnvironment = environment["AWS_SECRET_ACCESS_KEY"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        throw ValidationError("no secret key: set AWS_SECRET_ACCESS_KEY (preferred) or pass --secret-access-key")
    }

    private func format(_ result: SigV4Result, token: String?) throws -> String {
        let canonical = Self.redactingSessionToken(result.canonicalRequest, token: token)
        switch outputFormat {
        case .json:
            return JSONText.pretty(Output.document(ok: true, result: [
                ("canonicalRequest", .string(canonical)), ("stringToSign", .string(result.stringToSign)),
                ("signature", .string(result.signature)), ("authorization", .string(result.authorization)),
            ], error: nil)) + "\n"
        case .text:
            var text = "Canonical request:\n\(canonical)\n\n"
            if canonical != result.canonicalRequest {
                text += "(the session token's value is shown as <session-token>; the hashes use the real value)\n\n"
            }
            text += "String to sign:\n\(result.stringToSign)\n\n"
            text += "Signature:\n\(result.signature)\n\n"
            text += "Authorization header:\n\(result.authorization)\n"
            return text
        }
    }

    /// The canonical request with every `x-amz-security-token` header value, every `X-Amz-Security-Token` query
    /// parameter's value (a presigned URL piped in carries its own token there, URI-encoded), and any other
    /// occurrence of the token, raw or URI-encoded, replaced by `<session-token>`.
    static func redactingSessionToken(_ canonical: String, token: String?) -> String {
        let prefix = "x-amz-security-token:"
        var lines = canonical.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            line.hasPrefix(prefix) ? prefix + "<session-token>" : String(line)
        }
        lines = lines.map { $0.replacing(#/(?i)(^|[&?])(x-amz-security-token=)[^&\s]*/#) { "\($0.output.1)\($0.output.2)<session-token>" } }
        if let token, !token.isEmpty {
            let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
            let encoded = token.addingPercentEncoding(withAllowedCharacters: unreserved) ?? token
            lines = lines.map {
                $0.replacingOccurrences(of: token, with: "<session-token>").replacingOccurrences(of: encoded, with: "<session-token>")
            }
        }
        return lines.joined(separator: "\n")
    }
}
