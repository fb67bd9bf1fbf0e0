import Testing
import TradingState

/// What bounds the memory finished orders leave (the trading state's and the runner's).
@Suite("Finished keys: a bounded queue of what may leave memory")
struct FinishedKeysTests {
    @Test("nothing leaves until twice the bound wait; then all but the newest `kept`, oldest first, in one batch")
    func batches() {
        var keys = FinishedKeys<Int>(kept: 3)
        for key in 1...6 { #expect(keys.add(key).isEmpty, "\(key)") }
        #expect(Array(keys.add(7)) == [1, 2, 3, 4])
        for key in 8...10 { #expect(keys.add(key).isEmpty, "\(key)") }
        #expect(Array(keys.add(11)) == [5, 6, 7, 8])
    }
}
