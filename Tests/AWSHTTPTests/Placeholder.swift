import Testing

@Test func placeholderAWSHTTPTests() { #expect(Bool(true)) }
