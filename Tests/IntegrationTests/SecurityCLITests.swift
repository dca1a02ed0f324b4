import Testing
import Foundation
import TestSupport

/// The issue-13 items a user sees, through the built binary.
@Suite struct SecurityCLITests {
    static let plan = """
    version: 1
    name: web01
    source:
      instanceId: i-0fedcba9876543210
    workCopy:
      subnetId: subnet-0aaaaaaaaaaaaaaaa
      securityGroupIds: [sg-0bbbbbbbbbbbbbbbb]
      instanceProfile: clonectl-instance
    masterImage:
      name: web01-master-{runId}
    clones:
      - name: web02
        subnetId: subnet-0aaaaaaaaaaaaaaaa
        hostName: WEB02

    """

    func dir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("clonectl-sec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return d
    }

    func env(_ home: URL, _ extra: [String: String] = [:]) -> [String: String] {
        ["HOME": home.path, "PATH": "/usr/bin:/bin", "AWS_EC2_METADATA_DISABLED": "true"].merging(extra) { _, new in new }
    }

    @Test func controlCharactersNeverReachTheTerminalRaw() throws {
        let d = try dir()
        let file = d.appendingPathComponent("evil.yaml")
        // A host name carrying an escape sequence that would clear the screen and retitle the window.
        try Self.plan.replacingOccurrences(of: "hostName: WEB02", with: "hostName: \"WEB\\e[2J\\e]0;pwned\\a\\u202e\"")
            .write(to: file, atomically: true, encoding: .utf8)
        let r = try CLIRun.run(["plan", "validate", file.path], environment: env(d))
        #expect(r.status == 65)
        #expect(!r.stderr.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x202E }, "\(r.stderr.debugDescription)")
        #expect(r.stderr.contains("\\u001b[2J") && r.stderr.contains("\\u202e"), "\(r.stderr)")
    }

    @Test func planValidateNeverQuotesASecretLine() throws {
        let d = try dir()
        let file = d.appendingPathComponent("plan.yaml")
        try (Self.plan + "prep:\n  workUser:\n    name: x\n    password: 'hunter2-Secret\n").write(to: file, atomically: true, encoding: .utf8)
        let r = try CLIRun.run(["plan", "validate", file.path], environment: env(d))
        #expect(r.status == 65 && r.stderr.contains("not valid YAML"), "\(r.stderr)")
        #expect(!r.stderr.contains("hunter2") && !r.stdout.contains("hunter2"))
    }

    @Test func oddPlanFilesAreClearErrors() throws {
        let d = try dir()
        let folder = try CLIRun.run(["plan", "validate", d.path], environment: env(d))
        #expect(folder.status == 65 && folder.stderr.contains("is a folder"), "\(folder.stderr)")
        let utf16 = d.appendingPathComponent("utf16.yaml")
        try Self.plan.data(using: .utf16)!.write(to: utf16)
        let r16 = try CLIRun.run(["plan", "validate", utf16.path], environment: env(d))
        #expect(r16.status == 65 && r16.stderr.contains("UTF-16"), "\(r16.stderr)")
        var big = Self.plan
        for i in 0..<10_000 { big += "  - {name: c\(i), subnetId: subnet-0aaaaaaaaaaaaaaaa, hostName: C\(i)}\n" }
        let many = d.appendingPathComponent("many.yaml")
        try big.write(to: many, atomically: true, encoding: .utf8)
        let rb = try CLIRun.run(["plan", "validate", many.path], environment: env(d))
        #expect(rb.status == 65 && rb.stderr.contains("10001 clones") && rb.stderr.contains("5000"), "\(rb.stderr)")
    }

    @Test func untrustworthyLedgersAreRefusedAndReadOnlyOnesRead() throws {
        let d = try dir()
        let real = d.appendingPathComponent("real.sqlite").path
        let first = try CLIRun.run(["status", "--ledger", real], environment: env(d))
        #expect(first.status == 0, "\(first.stderr)")
        let link = d.appendingPathComponent("link.sqlite").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: d.appendingPathComponent("absent.sqlite").path)
        let viaLink = try CLIRun.run(["status", "--ledger", link], environment: env(d))
        #expect(viaLink.status != 0 && viaLink.stderr.contains("is a symlink"), "\(viaLink.stderr)")
        #expect(!FileManager.default.fileExists(atPath: d.appendingPathComponent("absent.sqlite").path))
        chmod(real, 0o664)
        let shared = try CLIRun.run(["status", "--ledger", real], environment: env(d))
        #expect(shared.status != 0 && shared.stderr.contains("chmod 600"), "\(shared.stderr)")
        chmod(real, 0o400)
        let readOnly = try CLIRun.run(["history", "--ledger", real], environment: env(d))
        #expect(readOnly.status == 0, "a read command reads a read-only ledger: \(readOnly.stderr)")
        chmod(real, 0o600)
    }

    @Test func plainHTTPToAnotherHostIsRefusedBeforeAnyCall() throws {
        let d = try dir()
        let base = env(d, ["AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_REGION": "us-east-1"])
        let r = try CLIRun.run(["debug", "aws-smoke", "--instance", "i-0123456789abcdef0", "--yes",
                                "--endpoint-url", "http://198.51.100.7:5000"], environment: base)
        #expect(r.status != 0 && r.stderr.contains("--allow-insecure-endpoint"), "\(r.stderr)")
        let port = try CLIRun.run(["debug", "aws-smoke", "--instance", "i-0123456789abcdef0", "--yes",
                                   "--endpoint-url", "http://localhost:"], environment: base)
        #expect(port.status != 0 && port.stderr.contains("no port"), "\(port.stderr)")
    }

    @Test func configWarningsGoToStandardError() throws {
        let d = try dir()
        let aws = d.appendingPathComponent(".aws")
        try FileManager.default.createDirectory(at: aws, withIntermediateDirectories: true)
        try "[profile a]\nregion = us-east-1\noutput = json # comment\n[profile b]\nregion = us-east-1\n"
            .write(to: aws.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        let r = try CLIRun.run(["debug", "aws-smoke", "--instance", "i-0123456789abcdef0", "--yes",
                                "--endpoint-url", "http://127.0.0.1:9"],
                               environment: env(d, ["AWS_PROFILE": "a", "AWS_DEFAULT_PROFILE": "b", "AWS_MAX_ATTEMPTS": "1",
                                                    "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK"]))
        #expect(r.stderr.contains("warning: AWS_PROFILE=a and AWS_DEFAULT_PROFILE=b differ"), "\(r.stderr)")
        #expect(r.stderr.contains("warning: ~/.aws/config line 3"), "\(r.stderr)")
    }

    @Test func devNullConfigIsNoConfigAndOtherDevicesAreClearErrors() throws {
        let d = try dir()
        let args = ["debug", "aws-smoke", "--instance", "i-0123456789abcdef0", "--yes"]
        let none = try CLIRun.run(args, environment: env(d, ["AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"]))
        #expect(none.status != 0 && none.stderr.contains("no region"), "read as no file, as the AWS CLI does: \(none.stderr)")
        let zero = try CLIRun.run(args, environment: env(d, ["AWS_CONFIG_FILE": "/dev/zero"]))
        #expect(zero.status != 0 && zero.stderr.contains("not a regular file"), "\(zero.stderr)")
    }

    @Test func payloadsWritableByOthersAreRefused() throws {
        let d = try dir()
        let payloads = d.appendingPathComponent("ps-scripts")
        try FileManager.default.createDirectory(at: payloads, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: payloads.appendingPathComponent("manifest.json"))
        chmod(payloads.path, 0o777)
        let r = try CLIRun.run(["payloads", "list", "--payloads", payloads.path], environment: env(d))
        #expect(r.status != 0 && r.stderr.contains("chmod go-w"), "\(r.stderr)")
    }
}

/// `debug aws-smoke` reading a SecureString whose answer is cut or mis-shaped: the value is never printed.
@Suite struct SmokeSecretTests {
    @Test func aMalformedGetParameterAnswerNeverShowsTheValue() async throws {
        let server = try FaultServer()
        let secret = "Sup3r-Secret-Parameter-Value"
        let identity = "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/t</Arn>"
            + "<UserId>U</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"
        let instances = "<DescribeInstancesResponse><reservationSet><item><reservationId>r</reservationId><instancesSet><item>"
            + "<instanceId>i-0123456789abcdef0</instanceId><instanceState><code>16</code><name>running</name></instanceState>"
            + "</item></instancesSet></item></reservationSet></DescribeInstancesResponse>"
        // The parameter's Version is a string: the answer is malformed, and its body holds the value.
        let parameter = #"{"Parameter":{"Name":"/p","Type":"SecureString","Value":"\#(secret)","Version":"x"}}"#
        try await server.script([["action": "status", "code": 200, "body": identity],
                                 ["action": "status", "code": 200, "body": instances],
                                 ["action": "status", "code": 200, "body": parameter]],
                                default: ["action": "status", "code": 500, "body": "stop"])
        let home = try CLIRun.emptyHome()
        let r = try CLIRun.run(["debug", "aws-smoke", "--instance", "i-0123456789abcdef0", "--yes", "--secure-parameter", "/p",
                                "--endpoint-url", server.url, "--region", "us-east-1"],
                               environment: ["HOME": home.path, "PATH": "/usr/bin:/bin", "AWS_EC2_METADATA_DISABLED": "true",
                                             "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_MAX_ATTEMPTS": "1"])
        #expect(r.status != 0)
        #expect((r.stdout + r.stderr).contains("GetParameter"), "\(r.stdout)\(r.stderr)")
        #expect(!(r.stdout + r.stderr).contains(secret), "\(r.stdout)\(r.stderr)")
    }
}
