import Testing
import Foundation
import AWSCore
import AWSHTTP
import ClonectlLedger
import TestSupport

/// The whole product against the bundled local AWS (moto + the Run Command simulator), through the real binary:
/// a full run, resume after kill -9, a re-run of one step, a dry run that calls nothing, two controllers racing.
@Suite(.serialized) struct EndToEndTests {
    /// Fast simulator timings: phases and reboots take a fraction of a second.
    static let fast = #"{"pendingSeconds": 0.3, "stoppingSeconds": 0.3, "shuttingDownSeconds": 0.3, "imagePendingSeconds": 0.3, "rebootSeconds": 0.3, "bootSeconds": 0.2, "sysprepSeconds": 0.2, "runDelaySeconds": 0.05, "invocationVisibleSeconds": 0.1}"#

    struct World {
        let local: LocalAWS
        let dir: URL
        let plan: URL
        let ledger: String
        let env: [String: String]
        let aws: MotoClients

        func run(_ args: [String]) throws -> CLIRun {
            try CLIRun.run(args + ["--ledger", ledger], environment: env)
        }

        /// Starts clonectl in the background (to be killed, or raced against).
        func start(_ args: [String]) throws -> Process {
            let process = Process()
            process.executableURL = CLIRun.binary
            process.arguments = args + ["--ledger", ledger]
            process.environment = env
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }

        /// Waits until the ledger shows `step` with `status` in the (only) run, or `process` ends, or 120 s pass.
        func waitFor(step: String, status: String, while process: Process) -> Bool {
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline, process.isRunning {
                if let l = try? Ledger(path: ledger), let run = try? l.runs().first,
                   (try? l.steps(runId: run.id))?.contains(where: { $0.name == step && $0.status == status }) == true {
                    return true
                }
                usleep(5_000)
            }
            return false
        }
    }

    /// A plan, ledger and environment of their own, on a private local AWS (or on `shared`, for suites whose cases
    /// run one after another on one local AWS).
    static func world(on shared: LocalAWS? = nil) throws -> World {
        let local = try shared ?? LocalAWS.startPrivate(config: fast)
        guard let sg = local.securityGroupId, let profile = local.instanceProfile else {
            throw LocalAWSError.missing("the local AWS has no simulator (securityGroupId/instanceProfile missing)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clonectl-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let plan = dir.appendingPathComponent("plan.yaml")
        try """
        version: 1
        name: e2e
        source: {instanceId: \(local.sourceInstanceId)}
        prep:
          workUser: {name: clonework, passwordParameter: \(local.secureParameter)}
          firewall: {profiles: [Domain, Private, Public]}
          jobs: {tasks: ['\\App\\Nightly'], services: [AppSvc]}
        workCopy: {subnetId: \(local.subnetId), securityGroupIds: [\(sg)], instanceProfile: \(profile), instanceType: m5.large}
        sysprep: {shutdownTimeoutMinutes: 5}
        masterImage: {name: "{plan}-master-{runId}", tags: {Owner: e2e}}
        clones:
          - {name: app02, subnetId: \(local.subnetId), hostName: APP02, timeZone: Tokyo Standard Time}
          - {name: app03, subnetId: \(local.subnetId), hostName: APP03, timeZone: Tokyo Standard Time}
        """.write(to: plan, atomically: true, encoding: .utf8)
        let env = ["HOME": dir.path, "PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": local.accessKeyId,
                   "AWS_SECRET_ACCESS_KEY": local.secretAccessKey, "AWS_REGION": local.region,
                   "AWS_ENDPOINT_URL": local.endpoint, "AWS_EC2_METADATA_DISABLED": "true",
                   "CLONECTL_POLL_SECONDS": "0.1",
                   // A call that acts may land until its attempt times out: keep that window short here.
                   "CLONECTL_HTTP_TIMEOUT_SECONDS": "15",
                   "CLONECTL_PAYLOADS": TestEnvironment.repoRoot.appendingPathComponent("ps-scripts").path]
        return World(local: local, dir: dir, plan: plan, ledger: dir.appendingPathComponent("ledger.sqlite").path, env: env,
                     aws: try MotoClients(maxAttempts: 5, local: local))
    }

    /// GET on the simulator's control API.
    static func control(_ w: World, _ path: String) async throws -> [String: Any] {
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        let response = try await transport.execute(HTTPRequest(method: "GET", url: w.local.controlEndpoint! + path),
                                                   options: HTTPRequestOptions())
        return try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
    }

    /// The guest model the simulator keeps for an instance.
    static func guest(_ w: World, _ id: String) async throws -> [String: Any] {
        try await control(w, "/guests/\(id)")
    }

    @Test func theWholeWorkflowThenOneStepAgain() async throws {
        let w = try Self.world()
        let r = try w.run(["run", w.plan.path, "--output", "json"])
        #expect(r.status == 0, "stdout: \(r.stdout)\nstderr: \(r.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
                                   "stdout is one JSON document: \(r.stdout)")
        #expect(summary["status"] as? String == "succeeded")
        let clones = try #require(summary["clones"] as? [String: String])
        #expect(clones.count == 2)
        let source = try await Self.guest(w, w.local.sourceInstanceId)
        for (name, id) in clones {
            let g = try await Self.guest(w, id)
            #expect((g["hostName"] as? String)?.uppercased() == (name == "app02" ? "APP02" : "APP03"), "\(g)")
            #expect(g["timeZoneId"] as? String == "Tokyo Standard Time")
            #expect(g["machineSid"] as? String != source["machineSid"] as? String)
        }
        #expect(!r.stdout.contains(w.local.secretAccessKey) && !r.stderr.contains(w.local.secretAccessKey))
        try Self.checkReport(w)

        // One guest step again, on one clone, recorded beside the run's.
        let clone = try #require(clones["app02"])
        let again = try w.run(["step", "verify", "--instance", clone, "--param", "ExpectedHostName=APP02"])
        #expect(again.status == 0, "stderr: \(again.stderr)")
        let history = try w.run(["history", "--instance", clone, "--output", "json"])
        let rows = (try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [String: Any])?["history"] as? [[String: Any]] ?? []
        #expect(rows.filter { ($0["payload"] as? String)?.hasPrefix("verify@") == true }.count == 2)
        #expect(rows.allSatisfy { $0["verdict"] as? String == "verified" })

        // --rerun sends a verified guest step again, inside the same run.
        let ledger = try Ledger(path: w.ledger)
        let runId = try #require(try ledger.runs().first?.id)
        #expect(try ledger.commands(runId: runId, step: "verify").count == 1)
        let rerun = try w.run(["run", w.plan.path, "--rerun", "verify", "--from", "verify", "--until", "verify"])
        #expect(rerun.status == 0, "stderr: \(rerun.stderr)")
        #expect(try ledger.commands(runId: runId, step: "verify").count == 2)
        #expect(try ledger.runs().count == 1)
        #expect(try ledger.run(id: runId).status == "succeeded")

        // Undone: clones terminated, images deregistered, snapshots deleted, the source's claim released.
        let cleanup = try w.run(["cleanup", runId, "--all", "--yes"])
        #expect(cleanup.status == 0, "stdout: \(cleanup.stdout)\nstderr: \(cleanup.stderr)")
        // Every call of the run, the step, the rerun and the cleanup, as AWS would authorize them, against
        // controller/iam/controller-policy.json (documents mode: without the inline statement).
        try IAMReplay.expectRunPolicyAllows(try await Self.control(w, "/calls"))
    }

    @Test func aDryRunMakesNoAWSCall() async throws {
        let w = try Self.world()
        let before = try await Self.callCount(w)
        let r = try w.run(["run", w.plan.path, "--dry-run"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("would: ec2 StopInstances"))
        #expect(try await Self.callCount(w) == before)
    }

    @Test func resumeAfterKill9CreatesNothingTwice() async throws {
        let w = try Self.world()
        // Kill the controller while it waits for the work copy, then resume.
        let process = try w.start(["run", w.plan.path])
        #expect(w.waitFor(step: "launch-work-copy", status: "running", while: process))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()

        let r = try w.run(["run", w.plan.path, "--output", "json"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("Resuming") || r.stderr.contains("Resuming") || r.stdout.contains("\"succeeded\""))
        let ledger = try Ledger(path: w.ledger)
        let runs = try ledger.runs()
        #expect(runs.count == 1)
        let runId = try #require(runs.first?.id)
        let images = try await w.aws.ec2.describeImages(filters: [EC2Filter("tag:clonectl:run", [runId])])
        #expect(images.filter { $0.tag("clonectl:role") == "source" }.count == 1, "one source AMI")
        #expect(images.filter { $0.tag("clonectl:role") == "master" }.count == 1, "one master AMI")
        let instances = try await w.aws.ec2.describeAllInstances(filters: [EC2Filter("tag:clonectl:run", [runId])])
        #expect(instances.filter { $0.tag("clonectl:role") == "work-copy" }.count == 1, "one work copy")
        #expect(instances.filter { $0.tag("clonectl:role") == "clone" }.count == 2, "two clones")
    }

    @Test func doctorFindsTheMissingPermissions() async throws {
        let w = try Self.world()
        let full = try w.run(["doctor", w.plan.path, "--guest"])
        #expect(full.status == 0, "stdout: \(full.stdout)")
        let lines = full.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("ok") && $0.contains("ec2:RunInstances + iam:PassRole") && $0.hasSuffix("allowed") })
        #expect(!lines.contains { $0.hasPrefix("FAIL") })
        #expect(lines.contains { $0.hasPrefix("ok") && $0.contains("guest preflight") && $0.contains("EC2Launch") },
                "the guest's EC2Launch flavour: \(full.stdout)")
        #expect(lines.contains { $0.hasPrefix("ok") && $0.contains("source opt-in tag") }, "\(full.stdout)")
        // ssm:SendCommand, which has no dry run, is asked of IAM's policy simulator for the caller's own user.
        #expect(lines.contains { $0.hasPrefix("ok") && $0.contains("permission ssm:SendCommand")
                    && $0.contains("allowed for arn:aws:iam::") && $0.contains(":user/clonectl") }, "\(full.stdout)")
        // moto answers a dry run without evaluating conditions: the probes themselves, replayed against the shipped
        // policy, must be allowed (a probe without the run's tags would be refused by AWS where the run is not).
        let probes = try IAMReplay.judge(calls: try await Self.control(w, "/calls"), policy: "controller-policy.json")
        #expect(probes.denied.isEmpty && probes.unknown.isEmpty, "doctor's probes under the run policy: \(probes.denied) \(probes.unknown)")
        #expect(probes.apis.isSuperset(of: ["ec2:StopInstances", "ec2:CreateImage", "ec2:RunInstances", "ec2:CreateTags"]),
                "\(probes.apis.sorted())")
        var env = w.env
        let readOnlyKey: String = try #require(w.local.readOnlyAccessKeyId)
        let readOnlySecret: String = try #require(w.local.readOnlySecretAccessKey)
        env["AWS_ACCESS_KEY_ID"] = readOnlyKey
        env["AWS_SECRET_ACCESS_KEY"] = readOnlySecret
        let readOnly = try CLIRun.run(["doctor", w.plan.path, "--ledger", w.ledger], environment: env)
        #expect(readOnly.status == 1)
        for missing in ["ec2:StopInstances", "ec2:CreateImage", "ec2:RunInstances + iam:PassRole"] {
            #expect(readOnly.stdout.contains("FAIL  permission \(missing)"), "\(missing): \(readOnly.stdout)")
        }
        #expect(readOnly.stdout.split(separator: "\n").contains { $0.hasPrefix("ok") && $0.contains("ssm:ListCommands") })
        // The read-only identity may not ask the simulator: not known, and what to add is said.
        #expect(readOnly.stdout.split(separator: "\n").contains { $0.hasPrefix("?") && $0.contains("permission ssm:SendCommand")
                    && $0.contains("AccessDenied") && $0.contains("AskTheSimulatorAboutClonectlIdentities") }, "\(readOnly.stdout)")
        // The instance profile's role (the shipped instance policy on the local AWS) may do what the guest does.
        #expect(lines.contains { $0.hasPrefix("ok") && $0.contains("instance profile clonectl-instance")
                    && $0.contains("role/clonectl-instance may:") && $0.contains("the SSM agent's core calls") }, "\(full.stdout)")
        // A clone whose domain credential lies outside the instance policy's /clonectl/* path: found before a run.
        let outside = w.dir.appendingPathComponent("outside.yaml")
        try (try String(contentsOf: w.plan, encoding: .utf8)).replacingOccurrences(
            of: "hostName: APP03,", with: "hostName: APP03, domain: {name: corp.example.com, credentialParameter: /prod/domain-join},")
            .write(to: outside, atomically: true, encoding: .utf8)
        let noRead = try w.run(["doctor", outside.path])
        let profileLine = noRead.stdout.split(separator: "\n").first { $0.contains("instance profile clonectl-instance") } ?? ""
        #expect(noRead.status == 1 && profileLine.hasPrefix("FAIL") && profileLine.contains("ssm:GetParameter (read /prod/domain-join)")
                    && profileLine.contains("clone app03"), "\(noRead.stdout)")
        // An assumed role (a profile's role_arn): the simulator is asked about the role, not the session.
        var roleEnv = w.env
        let config = w.dir.appendingPathComponent("aws-config"), keys = w.dir.appendingPathComponent("aws-credentials")
        try "[profile controller]\nrole_arn = \(w.local.roleArn)\nsource_profile = base\n".write(to: config, atomically: true, encoding: .utf8)
        try "[base]\naws_access_key_id = \(w.local.accessKeyId)\naws_secret_access_key = \(w.local.secretAccessKey)\n"
            .write(to: keys, atomically: true, encoding: .utf8)
        roleEnv["AWS_ACCESS_KEY_ID"] = nil
        roleEnv["AWS_SECRET_ACCESS_KEY"] = nil
        roleEnv["AWS_CONFIG_FILE"] = config.path
        roleEnv["AWS_SHARED_CREDENTIALS_FILE"] = keys.path
        roleEnv["AWS_PROFILE"] = "controller"
        let asRole = try CLIRun.run(["doctor", w.plan.path, "--ledger", w.ledger], environment: roleEnv)
        #expect(asRole.stdout.split(separator: "\n").contains { $0.hasPrefix("ok") && $0.contains("permission ssm:SendCommand")
                    && $0.contains("allowed for \(w.local.roleArn)") } && asRole.stdout.contains(":assumed-role/clonectl-controller/"),
                "\(asRole.stdout)")
        // An identity that may do everything but send to instances: doctor fails the send, naming the denying policy.
        let noSend = try Self.identity(w.local, policy: #"{"Version": "2012-10-17", "Statement": ["#
            + #"{"Effect": "Allow", "Action": "*", "Resource": "*"}, "#
            + #"{"Effect": "Deny", "Action": "ssm:SendCommand", "Resource": "arn:aws:ec2:*:*:instance/*"}]}"#)
        env["AWS_ACCESS_KEY_ID"] = noSend.key
        env["AWS_SECRET_ACCESS_KEY"] = noSend.secret
        let denied = try CLIRun.run(["doctor", w.plan.path, "--ledger", w.ledger], environment: env)
        let sendLine = denied.stdout.split(separator: "\n").first { $0.contains("permission ssm:SendCommand") } ?? ""
        #expect(denied.status == 1 && sendLine.hasPrefix("FAIL"), "\(denied.stdout)")
        #expect(sendLine.contains("instance/\(w.local.sourceInstanceId) (the source): denied by nosend")
                    && sendLine.contains("(a work copy)") && sendLine.contains("(a clone)")
                    && !sendLine.contains("document/AWS-RunPowerShellScript"), "\(sendLine)")
        #expect(try await Self.callCount(w) > 0)
    }

    /// A new IAM user on the local AWS with one inline policy (named `nosend`) and an access key (boto3 on moto).
    static func identity(_ local: LocalAWS, policy: String) throws -> (key: String, secret: String) {
        let script = """
            import boto3, json, sys, uuid
            iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name=sys.argv[2], aws_access_key_id=sys.argv[3],
                               aws_secret_access_key=sys.argv[4])
            name = "clonectl-e2e-" + uuid.uuid4().hex[:8]
            iam.create_user(UserName=name)
            iam.put_user_policy(UserName=name, PolicyName="nosend", PolicyDocument=sys.argv[5])
            key = iam.create_access_key(UserName=name)["AccessKey"]
            print(json.dumps([key["AccessKeyId"], key["SecretAccessKey"]]))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestEnvironment.python)
        process.arguments = ["-c", script, local.endpoint, local.region, local.accessKeyId, local.secretAccessKey, policy]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let pair = try JSONSerialization.jsonObject(with: data) as? [String] ?? []
        guard process.terminationStatus == 0, pair.count == 2 else { throw LocalAWSError.missing("an IAM user (create failed): \(String(decoding: data, as: UTF8.self))") }
        return (pair[0], pair[1])
    }

    @Test func ctrlCStopsCleanlyAndRecordsWhere() async throws {
        let w = try Self.world()
        let process = try w.start(["run", w.plan.path])
        #expect(w.waitFor(step: "launch-work-copy", status: "running", while: process))
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        let ledger = try Ledger(path: w.ledger)
        let run = try #require(try ledger.runs().first)
        #expect(run.status == "interrupted")
        #expect(try ledger.steps(runId: run.id).contains { $0.status == "failed" && ($0.error ?? "").contains("interrupted") })
        let again = try w.run(["run", w.plan.path])
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(try ledger.run(id: run.id).status == "succeeded")
    }

    @Test func aSecondControllerIsRefusedWhileTheFirstHoldsThePlan() async throws {
        let w = try Self.world()
        // Slow the source's stop down, so the first controller is surely mid-run when the second starts.
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        _ = try await transport.execute(HTTPRequest(method: "POST", url: w.local.controlEndpoint! + "/config",
                                                    headers: [HTTPHeader("Content-Type", "application/json")],
                                                    body: Array(#"{"stoppingSeconds": 4}"#.utf8)), options: HTTPRequestOptions())
        let first = try w.start(["run", w.plan.path, "--until", "stop-source"])
        let midRun = w.waitFor(step: "stop-source", status: "running", while: first)
        #expect(midRun, "the first controller reached stop-source")
        let second = try w.run(["run", w.plan.path, "--until", "stop-source"])
        first.waitUntilExit()
        #expect(second.status == 75, "stderr: \(second.stderr)")
        #expect(second.stderr.contains("locked by"))
        #expect(first.terminationStatus == 0)
    }

    static func callCount(_ w: World) async throws -> Int {
        (try await control(w, "/calls")["calls"] as? [Any])?.count ?? -1
    }
}
