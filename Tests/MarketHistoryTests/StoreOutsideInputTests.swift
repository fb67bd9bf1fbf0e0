import Foundation
import GRDB
import Testing
import TWSProtocol
@testable import MarketHistory

/// A store file is outside input: another tool (or a hand with the sqlite3 shell) may have put
/// text or a blob where a number belongs. Reading it never traps: an unreadable price reads as
/// NaN (the bar checks then refuse the bar, saying why), unreadable details as unusable.
@Suite("Bar store: a file with text where numbers belong")
struct StoreOutsideInputTests {
    @Test("text and blobs in bar prices and instrument details read as unusable, never a crash")
    func textWhereNumbersBelong() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-corrupt-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteBarStore(path: path)
        let bars = [StoredBar(time: 1_704_205_800, open: 100, high: 101, low: 99, close: 100.5, volume: 10, wap: nil, count: nil),
                    StoredBar(time: 1_704_205_860, open: 100.5, high: 101, low: 99, close: 100, volume: 10, wap: nil, count: nil)]
        let series = BarSeries(instrument: "ES 202612", barSize: "1 min")
        try await store.write(bars, of: series, covering: TimeSpan(1_704_205_800, 1_704_205_920))
        try await store.saveInstrument(StoredInstrument(key: "ES 202612", secType: "FUT", currency: "USD", multiplier: 50, tick: 0.25))
        let raw = try DatabaseQueue(path: path)
        try await raw.write { db in
            try db.execute(sql: "UPDATE bars SET open = 'abc' WHERE time = 1704205800")
            try db.execute(sql: "UPDATE bars SET volume = X'00' WHERE time = 1704205860")
            try db.execute(sql: "UPDATE instruments SET multiplier = 'abc', tick = X'00'")
        }
        try raw.close()
        let read = try await store.bars(series, in: TimeSpan(1_704_205_800, 1_704_205_920))
        #expect(read.count == 2)
        #expect(read[0].open.isNaN)
        #expect(BarBounds.problem(time: read[0].time, open: read[0].open, high: read[0].high, low: read[0].low, close: read[0].close,
                                  volume: read[0].volume) == "open nan is not a finite number")
        #expect(read[1].volume == nil && read[1].close == 100)
        let details = try await store.instrument("ES 202612")
        #expect(details?.problem != nil, "\(String(describing: details))")
    }
}
