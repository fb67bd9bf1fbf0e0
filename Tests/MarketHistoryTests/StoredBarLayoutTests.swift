import Testing
@testable import MarketHistory

/// A bar is 64 bytes (a backtest holds a million of them), and its missing fields still read
/// as missing, set or not.
@Suite("Stored bar: 64 bytes, missing fields kept")
struct StoredBarLayoutTests {
    @Test("64 bytes a bar; nil volume, wap and count read back nil, values as given; equality as read")
    func layout() {
        #expect(MemoryLayout<StoredBar>.stride == 64)
        var bar = StoredBar(time: 60, open: 1, high: 2, low: 0.5, close: 1.5)
        #expect(bar.volume == nil && bar.wap == nil && bar.count == nil)
        bar.volume = 0
        bar.wap = -0.0
        bar.count = 0
        #expect(bar.volume == 0 && bar.wap == 0 && bar.count == 0)
        bar.volume = 1e300
        bar.count = .max
        #expect(bar.volume == 1e300 && bar.count == .max)
        bar.volume = nil
        bar.count = nil
        #expect(bar.volume == nil && bar.count == nil && bar.wap == 0)
        #expect(StoredBar(time: 1, open: 1, high: 1, low: 1, close: 1) == StoredBar(time: 1, open: 1, high: 1, low: 1, close: 1),
                "two bars without a volume are equal")
        #expect(StoredBar(time: 1, open: 1, high: 1, low: 1, close: 1, volume: 5) != StoredBar(time: 1, open: 1, high: 1, low: 1, close: 1))
    }
}
