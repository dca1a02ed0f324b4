import Testing
import Foundation
import ClonectlAgent
import TestSupport
@testable import ClonectlWorkflow

/// The SSM Agent's S3 key and CloudWatch stream layout (FullOutput.swift cites the agent source it follows).
@Suite struct AgentOutputKeyTests {
    @Test func aSchema12DocumentsStdoutIsUnderThePropertyId() {
        #expect(AgentOutputKey.key(prefix: "runs/demo/", commandId: "c1", instanceId: "i-0abc")
                == "runs/demo/c1/i-0abc/awsrunPowerShellScript/0.awsrunPowerShellScript/stdout")
        #expect(AgentOutputKey.key(prefix: nil, commandId: "c1", instanceId: "i-0abc", file: "stderr")
                == "c1/i-0abc/awsrunPowerShellScript/0.awsrunPowerShellScript/stderr")
    }

    @Test func aSchema2DocumentsStdoutIsUnderItsStepName() {
        #expect(AgentOutputKey.key(prefix: "out", commandId: "c1", instanceId: "i-0abc", pluginName: "runPayload")
                == "out/c1/i-0abc/awsrunPowerShellScript/runPayload/stdout")
    }

    /// Documents mode: the step name the agent puts in the key is the one mainSteps name of the document clonectl
    /// publishes (read from the built content, not assumed), and ListCommandInvocations reports it as the plugin.
    @Test func aClonectlDocumentsStdoutIsUnderItsOneStepName() throws {
        let store = try PayloadStore(root: TestEnvironment.repoRoot.appendingPathComponent("Tests/Fixtures/ps-scripts-fixture"))
        let entry = try #require(store.manifest.payloads.first)
        let doc = try CommandDocument.build(store: store, entry: entry)
        let content = try #require(try JSONSerialization.jsonObject(with: Data(doc.content.utf8)) as? [String: Any])
        let steps = try #require(content["mainSteps"] as? [[String: Any]])
        #expect(content["schemaVersion"] as? String == "2.2" && steps.count == 1)
        let step = try #require(steps.first?["name"] as? String)
        #expect(AgentOutputKey.key(prefix: "runs/x/", commandId: "c1", instanceId: "i-1", pluginName: step)
                == "runs/x/c1/i-1/awsrunPowerShellScript/\(step)/stdout")
        #expect(step == "clonectl", "the e2e run (theWholeRunInDocumentsMode) reads the objects under this name")
    }

    @Test func thePrefixIsJoinedAsGosPathJoinDoes() {
        #expect(AgentOutputKey.key(prefix: "a//b/./c/", commandId: "c1", instanceId: "i-1")
                == "a/b/c/c1/i-1/awsrunPowerShellScript/0.awsrunPowerShellScript/stdout")
        #expect(AgentOutputKey.key(prefix: "a/x/../b", commandId: "c1", instanceId: "i-1").hasPrefix("a/b/c1/"))
    }

    @Test func theCloudWatchStreamAndDefaultGroup() {
        #expect(AgentOutputKey.logStream(commandId: "c1", instanceId: "i-1") == "c1/i-1/aws-runPowerShellScript/stdout")
        #expect(AgentOutputKey.defaultLogGroup(documentName: "AWS-RunPowerShellScript") == "/aws/ssm/AWS-RunPowerShellScript")
    }
}
