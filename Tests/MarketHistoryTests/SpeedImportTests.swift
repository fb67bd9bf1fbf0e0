import Foundation
import MarketHistory
import Testing

/// The streaming CSV import (BarCSVParser, SQLiteBarStore.importCSV): bar for bar what the
/// file says, all or nothing, and the fast path agreeing with BarCSV's own cell checks.
@Suite("Speed: streaming CSV import")
struct SpeedImportTests {
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-speed-import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A file of `count` bars: mostly the common layout, every 97th line in another accepted
    /// form (an offset, a space, quotes, an exponent, -1, empty cells, `12.0` counts, epoch
    /// seconds), with the bars it must give, computed from the numbers, not by the parser.
    static func generated(_ count: Int) -> (text: String, bars: [StoredBar]) {
        var lines = [BarCSV.header]
        var bars: [StoredBar] = []
        var seed: UInt64 = 7
        func next(_ bound: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(seed >> 33) % bound
        }
        func decimal(_ cents: Int) -> String { "\(cents / 100).\(cents % 100 < 10 ? "0" : "")\(cents % 100)" }
        let start: Int64 = 1_577_836_800
        for index in 0..<count {
            let time = start + Int64(index) * 60
            let c = UTCTime.components(time)
            func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
            let open = 1_000 + next(1_000_000), close = 1_000 + next(1_000_000)
            let high = max(open, close) + next(500), low = max(0, min(open, close) - next(500))
            let volume = next(100_000), wapCents = (open + close) / 2, count = next(50)
            var bar = StoredBar(time: time, open: Double(decimal(open))!, high: Double(decimal(high))!, low: Double(decimal(low))!,
                                close: Double(decimal(close))!, volume: Double(volume), wap: Double(decimal(wapCents))!, count: count)
            let iso = "\(c.year)-\(two(c.month))-\(two(c.day))T\(two(c.hour)):\(two(c.minute)):\(two(c.second))Z"
            var cells = [iso, decimal(open), decimal(high), decimal(low), decimal(close), "\(volume)", decimal(wapCents), "\(count)"]
            if index % 97 == 1 {
                switch index / 97 % 8 {
                case 0:  // an offset: 2 hours east
                    let local = UTCTime.components(time + 7_200)
                    cells[0] = "\(local.year)-\(two(local.month))-\(two(local.day))T\(two(local.hour)):\(two(local.minute)):\(two(local.second))+02:00"
                case 1: cells[0] = "\(c.year)-\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute)):\(two(c.second))"
                case 2: cells[0] = String(time)
                case 3:
                    cells[1] = " \"\(cells[1])\" "
                    cells[0] = "\"\(cells[0])\""
                case 4:
                    cells[5] = "\(volume)e0"
                    cells[6] = "-1"
                    bar.wap = -1
                case 5:
                    cells[5] = ""
                    cells[6] = ""
                    cells[7] = ""
                    bar.volume = nil
                    bar.wap = nil
                    bar.count = nil
                case 6: cells[7] = "\(count).0"
                default: cells[0] = "\(c.year)-\(two(c.month))-\(two(c.day))T\(two(c.hour)):\(two(c.minute))"
                }
            }
            lines.append(cells.joined(separator: ","))
            bars.append(bar)
        }
        // CRLF line ends in one file of three: the parser must not care.
        let end = count % 3 == 0 ? "\r\n" : "\n"
        return (lines.joined(separator: end) + end, bars)
    }

    @Test("a large generated file imports bar for bar, every accepted form included; its span is covered")
    func largeImport() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Over 4 MB: lines cross the parser's 1 MB read chunks.
        let (text, expected) = Self.generated(120_000)
        let file = folder.appendingPathComponent("bars.csv")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let store = try SQLiteBarStore(path: folder.appendingPathComponent("bars.sqlite").path)
        let series = BarSeries(instrument: "AAPL", barSize: "1 min")
        let summary = try await store.importCSV(fileAt: file.path, as: series, barSeconds: 60)
        #expect(summary.bars == expected.count)
        #expect(summary.first == expected.first && summary.last == expected.last)
        let stored = try await store.bars(series, in: TimeSpan(0, .max))
        #expect(stored.count == expected.count)
        let firstDifference = zip(stored, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(firstDifference == nil, "first differing bar: \(firstDifference.map { "\(stored[$0]) vs \(expected[$0])" } ?? "")")
        #expect(try await store.covered(series) == [TimeSpan(expected[0].time, expected[expected.count - 1].time + 60)])
        // The same file read as one String gives the same bars.
        #expect(try BarCSV.read(text) == expected)
        #expect(try BarCSV.read(fileAt: file.path) == expected)
    }

    @Test("one bad line deep in a large file refuses it whole: named, and nothing stored")
    func badLineRefusesAll() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var lines = Self.generated(30_001).text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[25_001] = "2020-01-18T08:40:00Z,1,2,0.5,1.5,inf,,"  // line 25,002 of the file
        let file = folder.appendingPathComponent("bad.csv")
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        let store = try SQLiteBarStore(path: folder.appendingPathComponent("bars.sqlite").path)
        let series = BarSeries(instrument: "AAPL", barSize: "1 min")
        do {
            _ = try await store.importCSV(fileAt: file.path, as: series, barSeconds: 60)
            Issue.record("a file with a bad line was imported")
        } catch let failure as BarCSV.Failure {
            #expect(failure.total == 1)
            #expect(failure.problems.first?.line == 25_002)
            #expect(failure.problems.first?.message.contains("volume 'inf' is not a finite number") == true, "\(failure)")
        }
        #expect(try await store.count(series) == 0)
        #expect(try await store.covered(series).isEmpty)
    }

    @Test("a line longer than the read chunk, and a file without bars")
    func longLineAndEmpty() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let note = String(repeating: "x", count: 3 << 20)
        let file = folder.appendingPathComponent("long.csv")
        try "time,open,high,low,close,note\n2024-01-02T14:30:00Z,1,2,0.5,1.5,\(note)\n2024-01-02 14:31,1,2,0.5,1.25,n\n"
            .write(to: file, atomically: true, encoding: .utf8)
        #expect(try BarCSV.read(fileAt: file.path).map(\.close) == [1.5, 1.25])
        let headerOnly = folder.appendingPathComponent("header.csv")
        try "\u{FEFF}time,open,high,low,close\r\n".write(to: headerOnly, atomically: true, encoding: .utf8)
        let store = try SQLiteBarStore(path: folder.appendingPathComponent("bars.sqlite").path)
        let series = BarSeries(instrument: "AAPL", barSize: "1 min")
        #expect(try await store.importCSV(fileAt: headerOnly.path, as: series, barSeconds: 60).bars == 0)
        #expect(try await store.covered(series).isEmpty)
        let empty = folder.appendingPathComponent("empty.csv")
        try "".write(to: empty, atomically: true, encoding: .utf8)
        #expect(throws: BarCSV.Failure.self) { try BarCSV.read(fileAt: empty.path) }
    }

    @Test("the fast path reads every cell as BarCSV's cell checks do")
    func fastPathAgrees() throws {
        var seed: UInt64 = 99
        func next(_ bound: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(seed >> 33) % bound
        }
        // Decimals the fast path takes (and some it leaves to BarCSV): leading zeros, long
        // fractions, 15-17 significant digits, the largest prices.
        var cells = ["0", "0.0", "00.50", "0.05", "1", "100", "999999999999", "1000000000000", "0.1", "0.30000000000000004",
                     "123456789012345.6", "1.7976931348623157", "9007199254740993", "0.000000000000000000000001", "5.", ".5"]
        for _ in 0..<3_000 {
            let whole = String(next(1_000_000_000))
            let fraction = String(repeating: "0", count: next(4)) + String(next(1_000_000_000))
            cells.append(next(3) == 0 ? whole : "\(whole).\(fraction)")
        }
        for cell in cells {
            // Refused by one, refused by the other; taken by both, the same double to the bit.
            let expected = try? BarCSV.price(Substring(cell))
            let bars = try? BarCSV.read("time,open,high,low,close\n0,\(cell),\(cell),\(cell),\(cell)\n")
            #expect(bars?.first?.close.bitPattern == expected?.bitPattern, "cell \(cell)")
        }
        // Times in every form, and some out of range (then BarCSV says why).
        let times = ["2024-01-02T14:30:00Z", "2024-01-02 14:30:00", "2024-01-02T14:30", "2024-01-02 14:30Z", "2024-01-02", "2024-02-29",
                     "1704205800", "0", "1900-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2024-01-02T09:30:00-05:00", "2024-01-02T14:30:00+0530"]
        for cell in times {
            let expected = try BarCSV.time(Substring(cell))
            #expect(try BarCSV.read("time,open,high,low,close\n\(cell),1,1,1,1\n").first?.time == expected, "time \(cell)")
        }
        for bad in ["2023-02-29", "2024-13-01", "2024-01-02T24:00", "1899-12-31", "253402300800", "2024-01-02T14:30:00z", "12:00"] {
            #expect(throws: BarCSV.Failure.self, "time \(bad)") { try BarCSV.read("time,open,high,low,close\n\(bad),1,1,1,1\n") }
        }
    }
}
