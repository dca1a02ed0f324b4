import Testing
import AWSCore

@Suite struct ChunksTests {
    @Test func runsInOrderWithAShorterLastOne() {
        let ids = (1...120).map { "i-\($0)" }
        let chunks = ids.chunks(of: 50)
        #expect(chunks.map(\.count) == [50, 50, 20])
        #expect(chunks.flatMap { $0 } == ids)
        #expect([Int]().chunks(of: 50).isEmpty)
        #expect([1, 2].chunks(of: 50) == [[1, 2]])
    }
}
