@testable import AWSCredentials
import Testing

@Suite struct ConfigFileParserTests {
    @Test func parsesSectionsCommentsWhitespaceAndCRLF() throws {
        let text = "\u{FEFF}# top comment\r\n; another\r\n[default]\r\n  region = eu-west-1   # Ireland\r\n"
            + "  output=json ; trailing\r\n\r\n[profile dev]\r\nRegion: us-east-2\r\nendpoint_url = http://h/#frag\r\n"
        var warnings: [String] = []
        let sections = try ConfigFileParser.parse(text, kind: .config, label: "~/.aws/config", warnings: &warnings)
        #expect(sections.map(\.header) == ["default", "profile dev"])
        // As the AWS CLI reads them: an inline '#' or ';' after whitespace is part of the value, with a warning.
        #expect(sections[0].values == ["region": "eu-west-1   # Ireland", "output": "json ; trailing"])
        #expect(warnings.count == 2 && warnings[0].contains("line 4") && warnings[0].contains("'region'"), "\(warnings)")
        #expect(sections[1].values["region"] == "us-east-2")
        // '#' not preceded by whitespace is part of the value.
        #expect(sections[1].values["endpoint_url"] == "http://h/#frag")
        #expect(sections[1].line == 7)
    }

    @Test func deeperIndentedLineContinuesTheValueLikeConfigparser() throws {
        let sections = try ConfigFileParser.parse("[a]\nkey = one\n   two\nnext = 3\n", kind: .config, label: "c")
        #expect(sections[0].values == ["key": "one\ntwo", "next": "3"])
    }

    @Test func nestedServiceSubsections() throws {
        let text = """
            [services local]
            ssm =
              endpoint_url = http://localhost:5000
              other = x
            ec2 =
                endpoint_url = http://localhost:6000
            """
        let sections = try ConfigFileParser.parse(text, kind: .config, label: "c")
        #expect(sections[0].subsections["ssm"] == ["endpoint_url": "http://localhost:5000", "other": "x"])
        #expect(sections[0].subsections["ec2"] == ["endpoint_url": "http://localhost:6000"])
    }

    @Test func credentialsFileKeepsHashesInValues() throws {
        let sections = try ConfigFileParser.parse("[a]\naws_secret_access_key = abc #def\n", kind: .credentials,
                                                  label: "creds")
        #expect(sections[0].values["aws_secret_access_key"] == "abc #def")
    }

    @Test func badLineNamesFileAndLine() async throws {
        let message = await expectConfigError(.syntax) {
            _ = try ConfigFileParser.parse("[default]\nregion = us-east-1\n\n# c\n\n\nfoo\n", kind: .config,
                                           label: "~/.aws/config")
        }
        #expect(message == "~/.aws/config line 7: expected 'key = value' or '[section]', found 'foo'")
    }

    @Test func otherSyntaxErrors() async throws {
        let header = await expectConfigError(.syntax) {
            _ = try ConfigFileParser.parse("[default\n", kind: .config, label: "cfg")
        }
        #expect(header.contains("cfg line 1") && header.contains("closing ']'"))
        let orphan = await expectConfigError(.syntax) {
            _ = try ConfigFileParser.parse("region = x\n", kind: .config, label: "cfg")
        }
        #expect(orphan.contains("line 1") && orphan.contains("before any [section]"))
        let nested = await expectConfigError(.syntax) {
            _ = try ConfigFileParser.parse("[services s]\nssm =\n  nonsense\n", kind: .config, label: "cfg")
        }
        #expect(nested.contains("line 3") && nested.contains("indented 'key = value'"))
    }

    @Test func credentialsErrorsNeverQuoteTheLine() async throws {
        let message = await expectConfigError(.syntax) {
            _ = try ConfigFileParser.parse("[a]\nwJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n", kind: .credentials,
                                           label: "~/.aws/credentials")
        }
        #expect(message.contains("~/.aws/credentials line 2"))
        #expect(!message.contains("wJalrXUtnFEMI"))
    }
}
