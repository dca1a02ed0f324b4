import Testing
import AWSHTTP
@testable import AWSCore

/// Every error shape AWS (and moto) answers with, read into code, message, request id and status.
@Suite struct ErrorShapeTests {
    func parse(_ status: Int, _ body: String, headers: [HTTPHeader] = []) -> AWSError {
        AWSErrorParser.parse(response: HTTPResponse(status: status, headers: headers, body: Array(body.utf8)),
                             service: "svc", operation: "Op")
    }

    @Test func json11TypeIsSanitised() {
        let e = parse(400, #"{"__type":"com.amazonaws.ssm#InvalidInstanceId:http://internal.amazon.com/coral/","message":"Instances [[i-1]] not in a valid state"}"#,
                      headers: [HTTPHeader("x-amzn-RequestId", "req-1")])
        #expect(e.kind == .service)
        #expect(e.code == "InvalidInstanceId")
        #expect(e.message == "Instances [[i-1]] not in a valid state")
        #expect(e.requestId == "req-1")
        #expect(e.httpStatus == 400)
    }

    @Test func jsonThrottlingWithCapitalMessage() {
        let e = parse(400, #"{"__type":"ThrottlingException","Message":"Rate exceeded"}"#)
        #expect(e.code == "ThrottlingException")
        #expect(e.message == "Rate exceeded")
    }

    @Test func ec2ErrorsDocument() {
        let e = parse(400, """
        <?xml version="1.0" encoding="UTF-8"?>
        <Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>The instance ID 'i-1' does not exist</Message></Error></Errors><RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>
        """)
        #expect(e.code == "InvalidInstanceID.NotFound")
        #expect(e.message == "The instance ID 'i-1' does not exist")
        #expect(e.requestId == "ea966190-f9aa-478e-9ede-example")
    }

    @Test func queryErrorResponseAsMotoSendsForAuthFailures() {
        let e = parse(403, """
        <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ErrorResponse>
        """)
        #expect(e.code == "SignatureDoesNotMatch")
        #expect(e.requestId == "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE")
        #expect(e.httpStatus == 403)
        #expect(e.hint != nil)
    }

    @Test func errorTypeHeaderOnly() {
        let e = parse(400, "", headers: [HTTPHeader("x-amzn-ErrorType", "AccessDeniedException:http://internal/")])
        #expect(e.code == "AccessDeniedException")
    }

    @Test func htmlBodyIsReportedNotCrashed() {
        let e = parse(502, "<html><body>Bad gateway</body>")
        #expect(e.code == "HTTP502")
        #expect(e.message.contains("Bad gateway"))
    }

    @Test func binaryAndEmptyBodies() {
        let e = AWSErrorParser.parse(response: HTTPResponse(status: 500, headers: [], body: [0, 1, 2, 0xff, 0xfe]),
                                     service: "svc", operation: "Op")
        #expect(e.code == "HTTP500")
        #expect(parse(503, "").message == "empty error body")
    }

    @Test func hugeBodyMessageIsBounded() {
        let e = parse(500, String(repeating: "x", count: 1_000_000))
        #expect(e.message.count < 300)
    }

    @Test func secretsAreScrubbedFromMessages() {
        var e = parse(403, #"{"__type":"InvalidSignatureException","message":"canonical: x-amz-security-token:TOKEN-SECRET-VALUE-123"}"#)
        e.scrub(secrets: ["TOKEN-SECRET-VALUE-123", ""])
        #expect(!e.message.contains("TOKEN-SECRET-VALUE-123"))
        #expect(e.message.contains("<redacted>"))
        #expect(!e.description.contains("TOKEN-SECRET-VALUE-123"))
    }

    @Test func sanitizeErrorTypeShapes() {
        #expect(AWSErrorParser.sanitizeErrorType("aws.protocoltests#FooError:http://x") == "FooError")
        #expect(AWSErrorParser.sanitizeErrorType("FooError") == "FooError")
        #expect(AWSErrorParser.sanitizeErrorType("FooError:http://x") == "FooError")
    }
}

/// Answers of each service read into typed models.
@Suite struct ModelParsingTests {
    @Test func describeInstancesXML() throws {
        let xml = """
        <DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
          <requestId>r-1</requestId>
          <reservationSet><item><reservationId>r-0a</reservationId><instancesSet><item>
            <instanceId>i-0abc</instanceId><imageId>ami-1</imageId>
            <instanceState><code>16</code><name>running</name></instanceState>
            <instanceType>m5.large</instanceType><platform>windows</platform>
            <privateIpAddress>10.0.0.5</privateIpAddress><subnetId>subnet-1</subnetId><vpcId>vpc-1</vpcId>
            <groupSet><item><groupId>sg-1</groupId><groupName>a</groupName></item></groupSet>
            <tagSet><item><key>Name</key><value>APP01</value></item><item><key>empty</key><value/></item></tagSet>
          </item></instancesSet></item></reservationSet>
          <nextToken>tok2</nextToken>
        </DescribeInstancesResponse>
        """
        let root = try XMLNode.parse(Array(xml.utf8))
        let reservations = try root.items("reservationSet").map(EC2Reservation.init(xml:))
        let i = try #require(reservations.first?.instances.first)
        #expect(i.instanceId == "i-0abc")
        #expect(i.stateName == .running)
        #expect(i.stateCode == 16)
        #expect(i.platform == "windows")
        #expect(i.securityGroupIds == ["sg-1"])
        #expect(i.tag("Name") == "APP01")
        #expect(i.tag("empty") == "")
        #expect(root.string("nextToken") == "tok2")
    }

    @Test func imageWithSnapshots() throws {
        let xml = """
        <DescribeImagesResponse><imagesSet><item><imageId>ami-9</imageId><imageState>available</imageState><name>master</name>
        <blockDeviceMapping><item><deviceName>/dev/sda1</deviceName><ebs><snapshotId>snap-1</snapshotId></ebs></item>
        <item><deviceName>xvdb</deviceName><ebs><snapshotId>snap-2</snapshotId></ebs></item></blockDeviceMapping>
        </item></imagesSet></DescribeImagesResponse>
        """
        let images = try XMLNode.parse(Array(xml.utf8)).items("imagesSet").map(EC2Image.init(xml:))
        #expect(images.count == 1)
        #expect(images[0].stateName == .available)
        #expect(images[0].snapshotIds == ["snap-1", "snap-2"])
    }

    @Test func instanceWithoutIdIsAMalformedAnswer() throws {
        let root = try XMLNode.parse(Array("<item><imageId>ami-1</imageId></item>".utf8))
        #expect(throws: MissingField.self) { try EC2Instance(xml: root) }
    }

    @Test func notXMLNamesLineAndColumn() {
        do {
            _ = try XMLNode.parse(Array("<a><b></a>".utf8))
            Issue.record("parsed malformed XML")
        } catch let e as XMLParseError {
            #expect(e.line >= 1)
            #expect(e.description.contains("line"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func ssmInvocationsJSON() throws {
        let body = #"{"CommandInvocations":[{"CommandId":"c-1","InstanceId":"i-1","Status":"Success","CommandPlugins":[{"Name":"aws:runPowerShellScript","Status":"Success","ResponseCode":0,"Output":"hi"}]}],"NextToken":"n"}"#
        let out = try JSONProtocol.decode(ListCommandInvocationsOutput.self,
                                          from: HTTPResponse(status: 200, headers: [], body: Array(body.utf8)),
                                          service: "ssm", operation: "ListCommandInvocations")
        #expect(out.commandInvocations.first?.invocationStatus == .success)
        #expect(out.commandInvocations.first?.commandPlugins?.first?.output == "hi")
        #expect(out.nextToken == "n")
    }

    @Test func ssmAnswerMissingRequiredMemberIsMalformed() {
        let body = #"{"Command":{"Status":"Pending"}}"#
        do {
            _ = try JSONProtocol.decode(SendCommandOutput.self, from: HTTPResponse(status: 200, headers: [], body: Array(body.utf8)),
                                        service: "ssm", operation: "SendCommand")
            Issue.record("decoded a command without CommandId")
        } catch let e as AWSError {
            #expect(e.kind == .malformedResponse)
            #expect(e.message.contains("CommandId"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func parameterNeverShowsItsValue() throws {
        let body = #"{"Parameter":{"Name":"/p","Type":"SecureString","Value":"hunter2-secret","Version":3}}"#
        let out = try JSONProtocol.decode(GetParameterOutput.self, from: HTTPResponse(status: 200, headers: [], body: Array(body.utf8)),
                                          service: "ssm", operation: "GetParameter")
        #expect(out.parameter.value == "hunter2-secret")
        #expect(!"\(out.parameter)".contains("hunter2"))
        #expect(!String(reflecting: out.parameter).contains("hunter2"))
    }
}
