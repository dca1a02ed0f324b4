import Testing

@Test func placeholderAgent() { #expect(Bool(true)) }
