import Foundation
import MarketHistory
import Testing

@testable import Backtest

/// equity.csv written while the run goes on must be the file written after it, byte for byte.
@Suite("equity.csv written during the run")
struct EquityCSVFileTests {
    static func points(_ count: Int) -> [EquityPoint] {
        var seed: UInt64 = 3
        return (0..<count).map { index in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let equity = 100_000 + Double(Int64(bitPattern: seed >> 24) % 2_000_000) / 100
            return EquityPoint(time: 1_704_067_200 + Int64(index) * 60, equity: equity, invested: seed & 1 == 0)
        }
    }

    static func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-equity-\(UUID().uuidString)")
    }

    static func file(_ folder: URL) throws -> [UInt8] { Array(try Data(contentsOf: folder.appendingPathComponent("equity.csv"))) }

    @Test("handed over in batches (parts of a megabyte crossed), then finished: the same bytes as at once")
    func batches() throws {
        let all = Self.points(60_000)
        let folder = Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let stream = EquityCSVFile(folder: folder)
        for start in stride(from: 0, to: 50_000, by: 8_192) { stream.append(Array(all[start..<min(start + 8_192, 50_000)])) }
        try stream.finish(all)  // the last 10,000 were never handed over
        #expect(try Self.file(folder) == BacktestReport.equityCSV(all))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent(".equity.csv.partial").path))
    }

    @Test("points handed over that are not the start of the result: the file is made again from the result")
    func mismatch() throws {
        let all = Self.points(1_000)
        let folder = Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let stream = EquityCSVFile(folder: folder)
        stream.append(Self.points(1_500))  // more than the result has
        try stream.finish(all)
        #expect(try Self.file(folder) == BacktestReport.equityCSV(all))
        let other = Self.folder()
        defer { try? FileManager.default.removeItem(at: other) }
        let shifted = EquityCSVFile(folder: other)
        var changed = Array(all[..<500])
        changed[499].equity += 1
        shifted.append(changed)
        try shifted.finish(all)
        #expect(try Self.file(other) == BacktestReport.equityCSV(all))
    }

    @Test("no points: the header alone; abandoned: nothing left behind")
    func emptyAndAbandoned() throws {
        let folder = Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try EquityCSVFile(folder: folder).finish([])
        #expect(String(decoding: try Self.file(folder), as: UTF8.self) == "time,equity,drawdown,invested\n")
        let other = Self.folder()
        defer { try? FileManager.default.removeItem(at: other) }
        let stream = EquityCSVFile(folder: other)
        stream.append(Self.points(10))
        stream.abandon()
        let left = (try? FileManager.default.contentsOfDirectory(atPath: other.path)) ?? []
        #expect(left.isEmpty, "\(left)")
    }

    @Test("a folder that cannot be written: finish throws, naming the file")
    func unwritable() throws {
        let stream = EquityCSVFile(folder: URL(fileURLWithPath: "/proc/moonwire-no-such-folder"))
        stream.append(Self.points(5))
        let error = #expect(throws: (any Error).self) { try stream.finish(Self.points(5)) }
        #expect("\(String(describing: error))".contains("moonwire-no-such-folder"), "\(String(describing: error))")
    }

    @Test("a backtest streaming its equity writes the report's equity.csv")
    func backtest() async throws {
        let fixture = try await BacktestRunTests.fixture()
        defer { try? FileManager.default.removeItem(at: fixture.folder) }
        let file = fixture.folder.appendingPathComponent("strategy.lua")
        try """
            function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
            local bought = false
            function on_bar(b) if not bought and b.close > 100.5 then orders.buy("AAPL", 10); bought = true end end
            """.write(to: file, atomically: true, encoding: .utf8)
        let setup = BacktestSetup(strategyPath: file.path, span: TimeSpan(BacktestRunTests.start, BacktestRunTests.start + 6 * 60))
        let data = try await BacktestData.load(setup: setup, instruments: [fixture.instrument], store: fixture.store)
        let out = fixture.folder.appendingPathComponent("out")
        let stream = EquityCSVFile(folder: out)
        let result = try await Backtester.run(data, loop: BacktestRunTests.loop, equity: stream)
        try BacktestReport.write(result, data: data, to: out, equity: stream)
        #expect(result.equity.count == 6 && result.equity.contains { $0.invested })
        #expect(try Self.file(out) == BacktestReport.equityCSV(result.equity))
    }
}
