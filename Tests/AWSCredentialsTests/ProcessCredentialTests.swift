@testable import AWSCredentials
import Foundation
import Testing

@Suite struct ProcessCredentialTests {
    func profileWithScript(_ home: TempHome, _ script: String, extra: String = "") throws {
        let path = try home.write("bin/helper.sh", "#!/bin/sh\n" + script, executable: true)
        try home.writeConfig("[profile p]\ncredential_process = \(path) --flag 'quoted arg'\n\(extra)")
    }

    @Test func success() async throws {
        let home = try TempHome()
        try profileWithScript(home, """
            [ "$2" = "quoted arg" ] || { echo "bad args: $*" >&2; exit 3; }
            echo '{"Version": 1, "AccessKeyId": "PROCKEY", "SecretAccessKey": "PROCSECRET",'
            echo ' "SessionToken": "PROCTOKEN", "Expiration": "2030-01-01T00:00:00Z"}'
            """)
        let creds = try await chain(home, profile: "p").credentials()
        #expect(creds.accessKeyId == "PROCKEY" && creds.secretAccessKey == "PROCSECRET")
        #expect(creds.sessionToken == "PROCTOKEN")
        #expect(creds.expiration == ISO8601DateFormatter().date(from: "2030-01-01T00:00:00Z"))
        #expect(creds.source == "process profile p")
    }

    @Test func staticKeysInCredentialsFileBeatTheProcess() async throws {
        let home = try TempHome()
        try profileWithScript(home, "exit 1\n")
        try home.writeCredentials("[p]\naws_access_key_id = FILEKEY\naws_secret_access_key = S\n")
        #expect(try await chain(home, profile: "p").credentials().accessKeyId == "FILEKEY")
    }

    @Test func failureIncludesStderrButNotStdout() async throws {
        let home = try TempHome()
        try profileWithScript(home, """
            echo '{"Version":1,"AccessKeyId":"K","SecretAccessKey":"HALFPRINTEDSECRET"}'
            echo "sso session expired, run aws sso login" >&2
            exit 4
            """)
        let message = await expectConfigError(.credentialProcess) { _ = try await chain(home, profile: "p").credentials() }
        #expect(message.contains("helper.sh"))
        #expect(message.contains("exit status 4") && message.contains("sso session expired"))
        #expect(!message.contains("HALFPRINTEDSECRET") && !message.contains("quoted arg"))
    }

    @Test func badJSONAndBadVersion() async throws {
        let home = try TempHome()
        try profileWithScript(home, "echo 'AccessKeyId=K SecretAccessKey=NOTJSONSECRET'\n")
        let notJSON = await expectConfigError(.credentialProcess) { _ = try await chain(home, profile: "p").credentials() }
        #expect(notJSON.contains("did not print a JSON object") && !notJSON.contains("NOTJSONSECRET"))

        try profileWithScript(home, "echo '{\"Version\": 2, \"AccessKeyId\": \"K\", \"SecretAccessKey\": \"S\"}'\n")
        #expect(await expectConfigError(.credentialProcess) { _ = try await chain(home, profile: "p").credentials() }
            .contains("unsupported Version"))

        try profileWithScript(home, "echo '{\"Version\": 1, \"AccessKeyId\": \"K\"}'\n")
        #expect(await expectConfigError(.credentialProcess) { _ = try await chain(home, profile: "p").credentials() }
            .contains("without SecretAccessKey"))
    }

    @Test func timeoutStopsTheWholeProcessGroup() async throws {
        let home = try TempHome()
        let pidFile = home.path + "/sleeper.pid"
        // The helper starts a grandchild and waits for it: killing only /bin/sh would leave it holding our pipes.
        let marker = home.path + "/finished"
        try home.write("bin/slow.sh", "#!/bin/sh\n(sleep 20; touch \(marker)) &\necho $! > \(pidFile)\nwait\n",
                       executable: true)
        let provider = ProcessCredentialProvider(command: home.path + "/bin/slow.sh", profileName: "slow",
                                                 environment: home.environment(), timeout: .milliseconds(500))
        let message = await expectConfigError(.credentialProcess) { _ = try await provider.credentials() }
        #expect(message.contains("did not finish within 0.5 s") && message.contains("stopped"))
        let pid = try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        // The signal was sent before the shell was reaped; give the kernel a moment to finish the grandchild.
        var alive = true
        for _ in 0..<40 where alive {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            alive = !stat.isEmpty && !stat.contains(") Z ")
            if alive { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(!alive, "the grandchild \(pid) survived the timeout")
        #expect(!FileManager.default.fileExists(atPath: marker), "the grandchild ran to completion")
    }
}
