import Testing

@Test func placeholderAWSCoreTests() { #expect(Bool(true)) }
