import Testing

@Test func placeholderAWSRetryTests() { #expect(Bool(true)) }
