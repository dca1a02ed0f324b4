import Testing
import Foundation
@testable import AWSCore

/// Golden strings for the two request encodings.
@Suite struct EncodingGoldenTests {
    @Test func percentEncodingUsesRFC3986UnreservedSetOnly() {
        #expect(PercentEncoding.encode("AZaz09-_.~") == "AZaz09-_.~")
        #expect(PercentEncoding.encode("a b+c/=&*") == "a%20b%2Bc%2F%3D%26%2A")
        #expect(PercentEncoding.encode("東京") == "%E6%9D%B1%E4%BA%AC")
        #expect(PercentEncoding.encode("a b+c", spaceAsPlus: true) == "a+b%2Bc")
    }

    @Test func ec2RunInstancesQueryBody() throws {
        var input = RunInstancesInput(imageId: "ami-123", instanceType: "m5.large")
        input.subnetId = "subnet-1"
        input.securityGroupIds = ["sg-1", "sg-2"]
        input.privateIpAddress = "10.0.0.5"
        input.iamInstanceProfile = "CloneProfile"
        input.clientToken = "run-1/clone-APP02"
        input.tagSpecifications = [EC2TagSpecification(resourceType: "instance", tags: [EC2Tag("Name", "APP 02")])]
        let p = try EC2Client.runInstancesParameters(input)
        #expect(p.encoded == "Action=RunInstances&Version=2016-11-15&ImageId=ami-123&InstanceType=m5.large&MinCount=1&MaxCount=1"
            + "&SubnetId=subnet-1&SecurityGroupId.1=sg-1&SecurityGroupId.2=sg-2&PrivateIpAddress=10.0.0.5"
            + "&IamInstanceProfile.Name=CloneProfile&ClientToken=run-1%2Fclone-APP02"
            + "&MetadataOptions.HttpTokens=required&MetadataOptions.HttpEndpoint=enabled"
            + "&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=APP+02")
    }

    @Test func ec2FiltersAreNestedLists() {
        var p = QueryParameters(action: "DescribeImages", version: EC2Client.apiVersion)
        EC2Client.addFilters([EC2Filter("tag:clonectl:run", ["r1"]), EC2Filter("state", ["pending", "available"])], to: &p)
        #expect(p.encoded == "Action=DescribeImages&Version=2016-11-15&Filter.1.Name=tag%3Aclonectl%3Arun&Filter.1.Value.1=r1"
            + "&Filter.2.Name=state&Filter.2.Value.1=pending&Filter.2.Value.2=available")
    }

    @Test func ssmSendCommandJSONBody() throws {
        let input = SendCommandInput(instanceIds: ["i-1", "i-2"], parameters: ["commands": ["echo {{x}}"]],
                                     comment: "clonectl hostname", timeoutSeconds: 600, maxConcurrency: "50", maxErrors: "0")
        let body = String(decoding: try JSONProtocol.encode(input), as: UTF8.self)
        #expect(body == #"{"Comment":"clonectl hostname","DocumentName":"AWS-RunPowerShellScript","InstanceIds":["i-1","i-2"],"MaxConcurrency":"50","MaxErrors":"0","Parameters":{"commands":["echo {{x}}"]},"TimeoutSeconds":600}"#)
        let headers = JSONProtocol.headers(targetPrefix: "AmazonSSM", operation: "SendCommand")
        #expect(headers.map(\.name) == ["Content-Type", "X-Amz-Target"])
        #expect(headers.map(\.value) == ["application/x-amz-json-1.1", "AmazonSSM.SendCommand"])
    }

    @Test func endpointParsing() throws {
        let e = try AWSEndpoint("http://127.0.0.1:5000")
        #expect(e.hostHeader == "127.0.0.1:5000")
        #expect(e.path == "/")
        #expect(e.url == "http://127.0.0.1:5000/")
        let d = try AWSEndpoint("https://ssm.us-east-1.amazonaws.com:443")
        #expect(d.hostHeader == "ssm.us-east-1.amazonaws.com")
        #expect(throws: AWSError.self) { try AWSEndpoint("ssm.us-east-1.amazonaws.com") }
        #expect(throws: AWSError.self) { try AWSEndpoint("ftp://host/") }
    }
}
