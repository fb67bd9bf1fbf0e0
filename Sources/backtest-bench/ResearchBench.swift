import Foundation
import GRDB
import MarketHistory

/// The research loop's data path, timed (run by Scripts/bench-research, never a timed unit
/// test): a generated CSV of 1-minute bars, its import into a fresh SQLite bar store (wall
/// time of parsing and inserting, one transaction), and reads back from the store in chunks.
enum ResearchBench {
    static let modes: Set<String> = ["csv", "import", "read"]
    static let series = BarSeries(instrument: "AAPL", barSize: "1 min")

    static func run(_ mode: String, _ arguments: [String]) async throws {
        switch (mode, arguments.count) {
        case ("csv", 2):
            guard let count = Int(arguments[0]), count > 0 else { throw usage() }
            try writeCSV(bars: count, to: arguments[1])
        case ("import", 2):
            try await importCSV(arguments[0], into: arguments[1])
        case ("read", 1):
            try await read(arguments[0])
        default:
            throw usage()
        }
    }

    static func usage() -> Error {
        CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "usage: backtest-bench csv BARS FILE | import FILE STORE | read STORE"])
    }

    /// A seeded random walk, 1-minute bars from 2020-01-01 00:00 UTC, prices in cents, in the
    /// common layout: `2020-01-01T00:00:00Z,100.00,100.03,99.95,100.01,1000,100.00,10`.
    static func writeCSV(bars count: Int, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? file.close() }
        var out: [UInt8] = Array((BarCSV.header + "\n").utf8)
        out.reserveCapacity(1 << 20 + 256)
        var seed: UInt64 = 42
        func random() -> Double {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(seed >> 11) / Double(1 << 53)
        }
        func digits(_ value: Int, width: Int = 1) {
            var text = String(value)
            while text.count < width { text = "0" + text }
            out.append(contentsOf: text.utf8)
        }
        func cents(_ value: Int) {
            digits(value / 100)
            out.append(UInt8(ascii: "."))
            digits(value % 100, width: 2)
        }
        var price = 10_000  // cents
        for index in 0..<count {
            let c = UTCTime.components(1_577_836_800 + Int64(index) * 60)
            digits(c.year, width: 4); out.append(UInt8(ascii: "-")); digits(c.month, width: 2); out.append(UInt8(ascii: "-"))
            digits(c.day, width: 2); out.append(UInt8(ascii: "T")); digits(c.hour, width: 2); out.append(UInt8(ascii: ":"))
            digits(c.minute, width: 2); out.append(UInt8(ascii: ":")); digits(c.second, width: 2); out.append(UInt8(ascii: "Z"))
            let open = price
            let close = max(100, open + Int((random() - 0.5) * 0.002 * Double(open)))
            let high = max(open, close) + Int(random() * 0.0005 * Double(open)), low = min(open, close) - Int(random() * 0.0005 * Double(open))
            for value in [open, high, low, close] {
                out.append(UInt8(ascii: ","))
                cents(value)
            }
            out.append(UInt8(ascii: ","))
            digits(1_000 + index % 500)
            out.append(UInt8(ascii: ","))
            cents((open + close) / 2)
            out.append(UInt8(ascii: ","))
            digits(10 + index % 7)
            out.append(UInt8(ascii: "\n"))
            price = close
            if out.count >= 1 << 20 {
                file.write(Data(out))
                out.removeAll(keepingCapacity: true)
            }
        }
        file.write(Data(out))
        print("csv: \(count) 1-minute bars written to \(path)")
    }

    static func importCSV(_ path: String, into storePath: String) async throws {
        for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: storePath + suffix) }
        let store = try SQLiteBarStore(path: storePath)
        let before = peakResidentMB()
        let clock = ContinuousClock.now
        let summary = try await store.importCSV(fileAt: path, as: series, barSeconds: 60)
        let took = ContinuousClock.now - clock
        print("import: \(summary.bars) bars in \(seconds(took)) s: \(rate(summary.bars, took)) bars/s "
              + "(CSV parsed in chunks and inserted into SQLite in one transaction; peak RSS \(before) MB before, \(peakResidentMB()) MB after)")
    }

    static func read(_ storePath: String) async throws {
        let store = try SQLiteBarStore(path: storePath)
        let span = TimeSpan(Int64.min / 2, Int64.max / 2)
        // Chunked reads, as a backtest streams them.
        var clock = ContinuousClock.now
        var count = 0, checksum = 0.0
        var next: TimeSpan? = span
        while let part = next {
            let chunk = try await store.barChunk(series, in: part, limit: 65_536)
            count += chunk.bars.count
            for bar in chunk.bars { checksum += bar.close }
            next = chunk.rest
        }
        var took = ContinuousClock.now - clock
        print("read: \(count) bars in \(seconds(took)) s: \(rate(count, took)) bars/s (chunks of 65,536, by column index; close sum \(checksum))")
        // For a profile of the chunked read alone.
        if ProcessInfo.processInfo.environment["BENCH_CHUNKED_ONLY"] != nil { return }
        // All at once (`bars(_:in:)`), the same reader.
        clock = ContinuousClock.now
        let all = try await store.bars(series, in: span)
        took = ContinuousClock.now - clock
        print("read whole: \(all.count) bars in \(seconds(took)) s: \(rate(all.count, took)) bars/s (bars(_:in:), one array)")
        // For comparison: GRDB rows decoded by column name, as the store read before.
        let queue = try DatabaseQueue(path: storePath)
        clock = ContinuousClock.now
        let old = try await queue.read { db in
            try Row.fetchAll(db, sql: "SELECT time, open, high, low, close, volume, wap, count FROM bars WHERE instrument = ? AND bar_size = ? AND what = ? ORDER BY time",
                             arguments: [series.instrument, series.barSize, series.what]).map { row -> StoredBar in
                StoredBar(time: row["time"], open: row["open"], high: row["high"], low: row["low"], close: row["close"], volume: row["volume"],
                          wap: row["wap"], count: row["count"])
            }
        }
        took = ContinuousClock.now - clock
        print("read (GRDB rows by name, the former reader): \(old.count) bars in \(seconds(took)) s: \(rate(old.count, took)) bars/s")
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.3f", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }

    static func rate(_ count: Int, _ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%.0f", Double(count) / max(seconds, 1e-9))
    }

    /// The process's peak resident memory (VmHWM), in MB; 0 where /proc is not there.
    static func peakResidentMB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes / 1024
    }
}
