import Testing
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
