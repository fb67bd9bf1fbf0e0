import Foundation
import GRDB
@testable import MarketHistory
import Testing

/// Chunked reads from the SQLite store (SQLiteBarReader): exactly the stored bars, in order,
/// each once, whatever the chunk size, and only the series and span asked for.
@Suite("Speed: chunked store reads")
struct SpeedReadTests {
    static func store() throws -> (SQLiteBarStore, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-speed-read-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return (try SQLiteBarStore(path: folder.appendingPathComponent("bars.sqlite").path), folder)
    }

    /// Every chunk of `span`, `limit` at a time.
    static func chunks(_ store: SQLiteBarStore, _ series: BarSeries, _ span: TimeSpan, limit: Int) async throws -> [[StoredBar]] {
        var chunks: [[StoredBar]] = []
        var next: TimeSpan? = span
        while let part = next {
            let chunk = try await store.barChunk(series, in: part, limit: limit)
            chunks.append(chunk.bars)
            next = chunk.rest
        }
        return chunks
    }

    @Test("a whole read sized from the times and the bar size: denser, sparser, one bar, decades apart: every bar, in order")
    func wholeReadsAnySpacing() async throws {
        let (store, folder) = try Self.store()
        defer { try? FileManager.default.removeItem(at: folder) }
        let start: Int64 = 1_704_067_200
        func bars(_ times: [Int64]) -> [StoredBar] {
            times.enumerated().map { StoredBar(time: $1, open: 100, high: 101, low: 99, close: 100 + Double($0 % 50) / 100, volume: 10) }
        }
        let cases: [(String, String, [Int64])] = [
            ("DENSE", "1 min", (0..<5_000).map { start + Int64($0) * 10 }),  // six a minute: more than sized for
            ("SPARSE", "1 min", (0..<2_000).map { start + Int64($0) * 86_400 }),  // a day apart: far fewer
            ("ONE", "1 min", [start]),
            ("APART", "1 secs", [-2_208_988_800, 253_402_300_000]),  // 1900 and 9999: room capped
        ]
        for (name, size, times) in cases {
            let series = BarSeries(instrument: name, barSize: size)
            let written = bars(times)
            try await store.write(written, of: series, covering: TimeSpan(times.first!, times.last! + 1))
            let read = try await store.bars(series, in: TimeSpan(times.first!, times.last! + 1))
            #expect(read == written, "\(name): \(read.count) of \(written.count)")
            let inner = try await store.bars(series, in: TimeSpan(times.first! + 1, times.last! + 1))
            #expect(inner == Array(written.dropFirst()), "\(name) without its first bar")
        }
        #expect(try await store.bars(BarSeries(instrument: "NONE", barSize: "1 min"), in: TimeSpan(start, start + 60)).isEmpty)
    }

    @Test("a span of many bars by its bar size is read in two halves at once: every bar once, in order, the one at the middle too")
    func halvedReads() async throws {
        let (store, folder) = try Self.store()
        defer { try? FileManager.default.removeItem(at: folder) }
        let start: Int64 = 1_704_067_200
        // 1-minute series with a bar every 10 minutes: 200,001 bars by the bar size's reckoning
        // (halved), 20,001 stored; one falls on the time that halves the span. And bars 1,000
        // minutes apart: past the largest guess (counted, still halved).
        for (name, step, count) in [("TENS", Int64(600), 20_001), ("FAR", Int64(60_000), 2_100)] {
            let series = BarSeries(instrument: name, barSize: "1 min")
            var written: [StoredBar] = []
            for index in 0..<count {
                let close: Double = 100 + Double(index % 97) / 100
                let volume: Double? = index % 3 == 0 ? nil : Double(index)
                let trades: Int? = index % 5 == 0 ? nil : index
                written.append(StoredBar(time: start + Int64(index) * step, open: 100, high: 101, low: 99, close: close,
                                         volume: volume, wap: nil, count: trades))
            }
            let span = TimeSpan(start, written.last!.time + 1)
            try await store.write(written, of: series, covering: span)
            // It is halved (else this test would hold the one-read path only).
            let plan = try await DatabaseQueue(path: store.path).read { db in try SQLiteBarReader.readAllOrSplit(db, series, in: span) }
            guard case .halves = plan else {
                Issue.record("\(name) is read in one")
                continue
            }
            #expect(try await store.bars(series, in: span) == written, "\(name)")
            #expect(try await store.bars(series, in: TimeSpan(0, .max)) == written, "\(name), the widest span")
            let middle = written[count / 2].time
            #expect(try await store.bars(series, in: TimeSpan(middle, .max)) == Array(written[(count / 2)...]), "\(name) from its middle")
        }
    }

    @Test("chunks of any size return exactly the stored bars in order, each once")
    func chunkedReads() async throws {
        let (store, folder) = try Self.store()
        defer { try? FileManager.default.removeItem(at: folder) }
        let series = BarSeries(instrument: "AAPL", barSize: "1 min")
        // Gaps (a bar every 1 to 3 minutes), missing volumes, waps and counts, odd doubles.
        var bars: [StoredBar] = []
        var time: Int64 = 1_704_205_800
        for index in 0..<10_000 {
            let price = 100 + Double(index % 1_000) * 0.01 + 0.1 + 0.2
            bars.append(StoredBar(time: time, open: price, high: price + 0.5, low: price - 0.5, close: price + 0.25,
                                  volume: index % 5 == 0 ? nil : Double(index), wap: index % 7 == 0 ? nil : price,
                                  count: index % 11 == 0 ? nil : index))
            time += Int64(60 * (1 + index % 3))
        }
        try await store.write(bars, of: series, covering: TimeSpan(bars[0].time, time))
        // Another series in the same store must not leak in.
        try await store.write(bars, of: BarSeries(instrument: "MSFT", barSize: "1 min"), covering: TimeSpan(bars[0].time, time))
        for limit in [1, 777, 10_000, 65_536] {
            let chunks = try await Self.chunks(store, series, TimeSpan(0, .max), limit: limit)
            #expect(chunks.joined().elementsEqual(bars), "limit \(limit)")
            #expect(chunks.allSatisfy { $0.count <= limit })
            #expect(chunks.dropLast().allSatisfy { $0.count == limit }, "only the last chunk is short")
        }
        // A span: its start included, its end excluded.
        let span = TimeSpan(bars[100].time, bars[5_000].time)
        #expect(try await Self.chunks(store, series, span, limit: 333).joined().elementsEqual(bars[100..<5_000]))
        #expect(try await store.bars(series, in: span) == Array(bars[100..<5_000]))
        var streamed: [StoredBar] = []
        try await store.forEachChunk(series, in: span, chunk: 1_000) { streamed += $0 }
        #expect(streamed == Array(bars[100..<5_000]))
    }

    @Test("a real-valued time at a chunk's edge: the next chunk starts after it, nothing skipped or repeated")
    func realTimesAtEdges() async throws {
        let (store, folder) = try Self.store()
        defer { try? FileManager.default.removeItem(at: folder) }
        let series = BarSeries(instrument: "ES", barSize: "1 min")
        try await store.write((1...6).map { StoredBar(time: Int64($0) * 10, open: 1, high: 2, low: 0.5, close: 1.5) }, of: series,
                              covering: TimeSpan(0, 100))
        // Another tool wrote a time as a real: 30.5 (read as 30, as GRDB did; the next chunk starts at 31).
        let raw = try DatabaseQueue(path: store.path)
        try await raw.write { db in
            try db.execute(sql: "UPDATE bars SET time = 30.5 WHERE time = 30")
        }
        try raw.close()
        for limit in [1, 2, 4] {
            let read = try await Self.chunks(store, series, TimeSpan(0, 100), limit: limit).joined().map(\.time)
            #expect(read == [10, 20, 30, 40, 50, 60], "limit \(limit)")
        }
    }
}
