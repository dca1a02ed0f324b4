import Testing

@Test func placeholderAWSCredentialsTests() { #expect(Bool(true)) }
