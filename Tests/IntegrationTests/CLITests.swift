import Testing
import Foundation
import AWSCore
import TestSupport

/// The built `clonectl` binary, run as an operator would run it.
struct CLIRun {
    let status: Int32
    let stdout: String
    let stderr: String

    /// Runs clonectl (built next to the test bundle) with exactly `environment`.
    /// The clonectl built next to the test bundle (or in .build/debug).
    static var binary: URL {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("clonectl")
        return FileManager.default.isExecutableFile(atPath: beside.path) ? beside
            : TestEnvironment.repoRoot.appendingPathComponent(".build/debug/clonectl")
    }

    static func run(_ arguments: [String], environment: [String: String], stdin: String? = nil,
                    executable: String? = nil) throws -> CLIRun {
        let process = Process()
        process.executableURL = executable.map { URL(fileURLWithPath: $0) } ?? binary
        process.arguments = arguments
        process.environment = environment
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIRun(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
    }

    /// A HOME with nothing in it, so no operator's ~/.aws leaks into a test.
    static func emptyHome() throws -> URL {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("clonectl-home-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        return home
    }
}

@Suite struct CLITests {
    @Test func noRegionIsAClearError() throws {
        let home = try CLIRun.emptyHome()
        let r = try CLIRun.run(["debug", "aws-smoke", "--instance", "i-0123456789abcdef0", "--yes"],
                               environment: ["HOME": home.path, "PATH": "/usr/bin:/bin",
                                             "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("region"), "stderr: \(r.stderr)")
        #expect(r.stderr.contains("--region") || r.stderr.contains("AWS_REGION"))
    }

    @Test func malformedConfigNamesFileAndLine() throws {
        let home = try CLIRun.emptyHome()
        let aws = home.appendingPathComponent(".aws")
        try FileManager.default.createDirectory(at: aws, withIntermediateDirectories: true)
        try "[default]\nregion = us-east-1\nthis line is wrong\n".write(to: aws.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        let r = try CLIRun.run(["debug", "aws-smoke", "--instance", "i-0123456789abcdef0", "--yes"],
                               environment: ["HOME": home.path, "PATH": "/usr/bin:/bin"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("config"), "stderr: \(r.stderr)")
        #expect(r.stderr.contains("3"), "the line number: \(r.stderr)")
    }

    @Test func unknownProfileListsTheKnownOnes() throws {
        let home = try CLIRun.emptyHome()
        let aws = home.appendingPathComponent(".aws")
        try FileManager.default.createDirectory(at: aws, withIntermediateDirectories: true)
        try "[profile prod]\nregion = eu-west-1\n".write(to: aws.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        let r = try CLIRun.run(["debug", "aws-smoke", "--instance", "i-0123456789abcdef0", "--yes", "--profile", "prdo"],
                               environment: ["HOME": home.path, "PATH": "/usr/bin:/bin"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("prdo"))
        #expect(r.stderr.contains("prod"), "known profiles are listed: \(r.stderr)")
    }

    @Test func planValidateListsEveryProblemAndExits65() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("clonectl-plan-\(UUID().uuidString).yaml")
        try "version: 1\nname: Bad_Name\nclones: 3\n".write(to: file, atomically: true, encoding: .utf8)
        let r = try CLIRun.run(["plan", "validate", file.path], environment: ["PATH": "/usr/bin:/bin"])
        #expect(r.status == 65)
        #expect(r.stderr.contains("\(file.path):2:7: name:"), "stderr: \(r.stderr)")
        #expect(r.stderr.contains("source: is required"))
        let example = TestEnvironment.repoRoot.appendingPathComponent("controller/plans/example-app01.yaml").path
        let ok = try CLIRun.run(["plan", "show", example, "--output", "json"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(ok.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(ok.stdout.utf8)) as? [String: Any]
        #expect(((object?["plan"] as? [String: Any])?["clones"] as? [[String: Any]])?.count == 2)
    }

    @Test func smokeRefusesWithoutConfirmation() throws {
        let r = try CLIRun.run(["debug", "aws-smoke", "--instance", "i-0123456789abcdef0"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--yes"))
    }

    /// The demo's path: every AWS call through the real binary against moto, on an instance of its own.
    @Test func smokeRunsEveryCallAgainstLocalAWS() async throws {
        let aws = try MotoClients()
        var input = RunInstancesInput(imageId: aws.local.sourceImageId, instanceType: "t3.micro")
        input.subnetId = aws.local.subnetId
        let instance = try #require(try await aws.ec2.runInstances(input).instances.first?.instanceId)
        let home = try CLIRun.emptyHome()
        let r = try CLIRun.run(
            ["debug", "aws-smoke", "--instance", instance, "--secure-parameter", aws.local.secureParameter,
             "--yes", "--output", "json", "--endpoint-url", aws.local.endpoint, "--region", aws.local.region],
            environment: ["HOME": home.path, "PATH": "/usr/bin:/bin",
                          "AWS_ACCESS_KEY_ID": aws.local.accessKeyId, "AWS_SECRET_ACCESS_KEY": aws.local.secretAccessKey])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let steps = try #require(object["steps"] as? [[String: Any]])
        #expect(steps.count == 11)
        #expect(steps.allSatisfy { $0["verdict"] as? String == "ok" }, "\(steps)")
        #expect(!r.stdout.contains(aws.local.secureParameterValue))
        #expect(!r.stdout.contains(aws.local.secretAccessKey) && !r.stderr.contains(aws.local.secretAccessKey))
        let after = try await aws.ec2.describeAllInstances(instanceIds: [instance])
        #expect(after.first?.stateName == .running, "the instance was started again")
    }
}
