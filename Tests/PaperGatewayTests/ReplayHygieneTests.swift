import Foundation
import Testing
@testable import PaperGateway

/// A bar store another tool wrote may hold NaN, inf, negative or absurd values: the replaying
/// gateway leaves such a bar out (and says which) instead of crashing on it; no speed, volume
/// or pause can overflow a trade's size. The paper account's state file is the user's alone.
@Suite("Replay of bad stored bars; private state file")
struct ReplayHygieneTests {
    static func bar(_ time: Int64, open: Double = 100, high: Double = 101, low: Double = 99, close: Double = 100, volume: Double = 60) -> ReplayBar {
        ReplayBar(time: time, open: open, high: high, low: low, close: close, volume: volume)
    }

    @Test("bars with non-finite, negative or absurd values are skipped, each named with why; TWS's -1 volume is kept")
    func skipsBadBars() {
        let bars = [
            Self.bar(600), Self.bar(660, volume: .infinity), Self.bar(720, volume: 1e300), Self.bar(780, volume: .nan),
            Self.bar(840, volume: -5), Self.bar(900, open: -1), Self.bar(960, high: 98), Self.bar(1020, close: .nan),
            Self.bar(1080, low: 2e12), Self.bar(.max), Self.bar(1140, volume: -1),
        ]
        let replay = MarketReplay(bars: ["AAPL": bars], barSeconds: 60, speed: 1)
        #expect(replay.bars["AAPL"]?.map(\.time) == [600, 1140])
        #expect(replay.skipped.map(\.reason) == [
            "volume inf is not a finite number", "volume 1e+300 is above 1e15 (not a volume)", "volume nan is not a finite number",
            "volume -5.0 is negative", "open -1.0 is negative", "high 98.0 and low 99.0 do not contain open 100.0 and close 100.0",
            "close nan is not a finite number", "low 2000000000000.0 is above 1e12 (not a price)",
            "time 9223372036854775807 is past 9999-12-31",
        ])
        #expect(replay.skipped.first?.description == "AAPL bar at epoch 660: volume inf is not a finite number")
        #expect(replay.end == 1200)
    }

    @Test("a replay of bad bars runs: the simulator steps through and past them without trapping")
    func simulatorSurvives() {
        let bars = [Self.bar(600, volume: .infinity), Self.bar(660, volume: 1e15), Self.bar(720, volume: .nan)]
        let replay = MarketReplay(bars: ["AAPL": bars], barSeconds: 60, speed: 1e300)
        var market = MarketSimulator(instruments: Instrument.defaultUniverse, seed: 1, now: 600, replay: replay)
        for now in stride(from: 600.0, through: 800, by: 10) { _ = market.step(seconds: 3600, now: now) }
        let last = market.quote(symbol: "AAPL")?.last ?? 0
        #expect(last >= 99 && last <= 101, "\(last)")
    }

    @Test("a trade's size is checked: huge volume, speed or pause gives the cap, never a trap")
    func tradeSize() {
        let replay = MarketReplay(bars: [:], barSeconds: 60, speed: 1e300)
        #expect(replay.tradeSize(Self.bar(0, volume: 1e15), wallSeconds: 1e9) == 1_000_000_000)
        #expect(replay.tradeSize(Self.bar(0, volume: .infinity), wallSeconds: 1) == 1_000_000_000)
        #expect(replay.tradeSize(Self.bar(0, volume: .nan), wallSeconds: 1) == 1)
        #expect(replay.tradeSize(Self.bar(0, volume: -1), wallSeconds: 1) == 1)
        #expect(MarketReplay(bars: [:], barSeconds: 60, speed: 10).tradeSize(Self.bar(0, volume: 600), wallSeconds: 1) == 100)
        // A bar size or speed that is not usable is taken as 1 rather than divided by.
        let odd = MarketReplay(bars: [:], barSeconds: 0, speed: .nan)
        #expect(odd.barSeconds == 1 && odd.speed == 1)
    }

    @Test("the state file and its -wal and -shm are 0600, also one an older version left 0644")
    func privateStateFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-state-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        func mode(_ path: String) throws -> Int {
            var info = stat()
            try #require(stat(path, &info) == 0, "\(path)")
            return Int(info.st_mode & 0o777)
        }
        do {
            let store = try GatewayStateStore(path: path)
            try store.save(accounts: [PaperAccount(id: "DU1", cash: 1_000)])
            for suffix in ["", "-wal", "-shm"] { #expect(try mode(path + suffix) == 0o600, "\(suffix)") }
        }
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            #expect(chmod(path + suffix, 0o644) == 0)
        }
        _ = try GatewayStateStore(path: path)
        #expect(try mode(path) == 0o600)
    }
}
