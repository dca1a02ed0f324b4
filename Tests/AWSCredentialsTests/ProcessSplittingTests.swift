@testable import AWSCredentials
import Foundation
import Testing

/// credential_process as the AWS CLI runs it: shlex words, no shell, and what a hostile or sloppy helper can do.
@Suite struct ProcessSplittingTests {
    @Test func splitsLikeShlex() throws {
        // Expected values are what Python's shlex.split gives for the same lines.
        #expect(try ShellWords.split(#"helper --a 'x y' "p q" r\ s"#) == ["helper", "--a", "x y", "p q", "r s"])
        #expect(try ShellWords.split(#"a "x\"y\\z\n" 'it\s' ''"#) == ["a", #"x"y\z\n"#, #"it\s"#, ""])
        #expect(try ShellWords.split("a $HOME ~/x *") == ["a", "$HOME", "~/x", "*"])
        #expect(try ShellWords.split("  a\tb  ") == ["a", "b"])
        #expect(throws: ShellWords.SplitError.self) { try ShellWords.split("a 'b") }
        #expect(throws: ShellWords.SplitError.self) { try ShellWords.split(#"a "b"#) }
        #expect(throws: ShellWords.SplitError.self) { try ShellWords.split(#"a \"#) }
    }

    @Test func noShellRunsTheCommand() async throws {
        let home = try TempHome()
        let marker = home.path + "/shell-ran"
        let helper = try home.write("bin/helper.sh", """
            #!/bin/sh
            [ "$1" = '$HOME;touch \(marker)' ] || { echo "args: $*" >&2; exit 3; }
            echo '{"Version": 1, "AccessKeyId": "K", "SecretAccessKey": "S"}'
            """, executable: true)
        let provider = ProcessCredentialProvider(command: "\(helper) '$HOME;touch \(marker)'", profileName: "p",
                                                 environment: home.environment())
        #expect(try await provider.credentials().accessKeyId == "K")
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func programIsFoundOnTheInjectedPath() async throws {
        let home = try TempHome()
        try home.write("bin/my-helper", "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"PATHKEY\", \"SecretAccessKey\": \"S\"}'\n",
                       executable: true)
        let found = ProcessCredentialProvider(command: "my-helper", profileName: "p",
                                              environment: home.environment(["PATH": home.path + "/bin:/usr/bin:/bin"]))
        #expect(try await found.credentials().accessKeyId == "PATHKEY")
        let missing = ProcessCredentialProvider(command: "my-helper", profileName: "p",
                                                environment: home.environment(["PATH": "/usr/bin:/bin"]))
        let message = await expectConfigError(.credentialProcess) { _ = try await missing.credentials() }
        #expect(message.contains("'my-helper'") && message.contains("not found"))
    }

    @Test func aLeadingAssignmentIsRefusedWithoutItsValue() async throws {
        let provider = ProcessCredentialProvider(command: "VAULT_PASSWORD=hunter2-secret helper --x", profileName: "p",
                                                 environment: [:])
        #expect(!provider.what.contains("hunter2") && provider.what.contains("VAULT_PASSWORD=..."))
        let message = await expectConfigError(.credentialProcess) { _ = try await provider.credentials() }
        #expect(!message.contains("hunter2") && message.contains("no shell"), "\(message)")
        let unclosed = ProcessCredentialProvider(command: "helper --password 'hunter2-secret", profileName: "p", environment: [:])
        let split = await expectConfigError(.credentialProcess) { _ = try await unclosed.credentials() }
        #expect(!split.contains("hunter2") && split.contains("not closed"), "\(split)")
    }

    @Test func alreadyExpiredCredentialsAreRefused() async throws {
        let home = try TempHome()
        let helper = try home.write("bin/stale.sh", """
            #!/bin/sh
            echo '{"Version": 1, "AccessKeyId": "K", "SecretAccessKey": "S", "SessionToken": "T", "Expiration": "2020-01-01T00:00:00Z"}'
            """, executable: true)
        let provider = ProcessCredentialProvider(command: helper, profileName: "ci", environment: home.environment())
        let message = await expectConfigError(.credentialProcess) { _ = try await provider.credentials() }
        #expect(message.contains("profile ci") && message.contains("stale.sh") && message.contains("already expired"), "\(message)")
    }

    @Test func aBackgroundChildHoldingThePipesDoesNotStall() async throws {
        let home = try TempHome()
        // The helper answers, then leaves a child that keeps stdout and stderr open for two minutes (and one that
        // holds no stdio at all). clonectl reads until the helper exits: it returns while both children still run.
        // Checked by the children being alive afterwards, not by a stopwatch, so a loaded machine cannot fail it.
        let pids = home.path + "/children"
        let helper = try home.write("bin/bg.sh", """
            #!/bin/sh
            echo '{"Version": 1, "AccessKeyId": "BGKEY", "SecretAccessKey": "S"}'
            sleep 120 &
            echo $! >> \(pids)
            sleep 120 </dev/null >/dev/null 2>&1 &
            echo $! >> \(pids)
            exit 0
            """, executable: true)
        let creds = try await ProcessCredentialProvider(command: helper, profileName: "p", environment: home.environment(),
                                                        timeout: .seconds(100)).credentials()
        #expect(creds.accessKeyId == "BGKEY")
        let children = try String(contentsOfFile: pids, encoding: .utf8).split(separator: "\n").compactMap { pid_t($0) }
        #expect(children.count == 2)
        for pid in children {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            #expect(!stat.isEmpty && !stat.contains(") Z "), "the background child \(pid) had already ended: clonectl waited for it")
            kill(pid, SIGKILL)
        }
    }
}
