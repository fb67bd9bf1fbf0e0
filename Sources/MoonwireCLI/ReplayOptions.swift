import ArgumentParser
import Foundation
import Moonwire
import PaperGateway
import TWSProtocol

/// `--replay AAPL,MSFT --replay-from 2024-03-01 --replay-to 2024-03-02 [--replay-bar "1 min"]
/// [--speed 60] [--replay-spread 0]`: the paper gateway's market from the bar store instead of
/// its random walk.
struct ReplayOptions: ParsableArguments {
    @Option(help: "Replay stored bars of these instruments (comma-separated) instead of the simulated market.")
    var replay: String?
    @Option(name: .customLong("replay-from"), help: "Replay from this day (UTC), YYYY-MM-DD (or YYYY-MM-DD HH:MM).")
    var replayFrom: String?
    @Option(name: .customLong("replay-to"), help: "Replay up to this day (UTC; default: a day after --replay-from).")
    var replayTo: String?
    @Option(name: .customLong("replay-bar"), help: "Bar size of the stored bars to replay.")
    var replayBar = "1 min"
    @Option(help: "Replay speed: market seconds per wall second (1 = real speed, 60 = an hour a minute).")
    var speed = 1.0
    @Option(name: .customLong("replay-store"), help: "The bar store to replay from (default: history.store of the config, else bars.sqlite in the data folder).")
    var replayStore: String?
    @Option(name: .customLong("replay-what"), help: "What the stored bars show: TRADES, or MIDPOINT for forex (as backtest's --what).")
    var replayWhat = "TRADES"
    @Option(name: .customLong("replay-spread"), help: "How replayed instruments are quoted, in ticks (0-100). 0: bid = ask = the replayed price, so a market order fills at it, as in a backtest; n: bid and ask at least n/2 ticks either side (default 1: a market order pays half a tick to a tick).")
    var replaySpread = 1

    /// The replay the options describe, its bars read from the store (nil without --replay).
    func load(config: HostConfig?, universe: [Instrument]) async throws -> MarketReplay? {
        guard let replay else { return nil }
        guard let replayFrom else { throw ValidationError("--replay needs --replay-from (the first day to replay)") }
        // At most a million times real speed: a replayed bar's volume is spread over the wall
        // seconds, and past that the sizes stop meaning anything.
        try OptionRange.check(speed, "--speed", 0...1_000_000, exclusive: true)
        try OptionRange.check(replaySpread, "--replay-spread", MarketReplay.spreadTicksRange)
        let what = replayWhat.uppercased()
        guard Self.whats.contains(what) else {
            throw ValidationError("--replay-what '\(replayWhat.prefix(40))' is not one of \(Self.whats.joined(separator: ", "))")
        }
        let start = try day(replayFrom, "--replay-from")
        let end = try replayTo.map { try day($0, "--replay-to") } ?? start + 86_400
        guard end > start else { throw ValidationError("--replay-to must come after --replay-from") }
        guard let seconds = HistoricalSpan.barSeconds(replayBar, strict: false) else {
            throw ValidationError("--replay-bar '\(replayBar)' is not a bar size (1 min, 5 mins, ...)")
        }
        let bars = try await withBarStore(replayStore, config: config) { opened -> [String: [ReplayBar]] in
            var bars: [String: [ReplayBar]] = [:]
            for name in replay.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
                let key: String
                do { key = try InstrumentSpec.parse(name).key } catch { throw ValidationError("--replay: \(error)") }
                let stored = try await opened.store.bars(BarSeries(instrument: key, barSize: replayBar, what: what), in: TimeSpan(start, end))
                guard !stored.isEmpty else {
                    let shows = what == "TRADES" ? "" : " \(what)"
                    throw RuntimeError("--replay: no stored \(replayBar)\(shows) bars of \(key) in \(opened.name) from \(replayFrom) "
                                       + "(download them: moonwire history \(key) --from \(replayFrom) --bar \"\(replayBar)\""
                                       + (what == "TRADES" ? "" : " --what \(what)") + ")")
                }
                bars[Self.symbol(for: key, in: universe)] = stored.map {
                    ReplayBar(time: $0.time, open: $0.open, high: $0.high, low: $0.low, close: $0.close, volume: $0.volume ?? 0)
                }
            }
            return bars
        }
        let market = MarketReplay(bars: bars, barSeconds: seconds, speed: speed, spreadTicks: replaySpread)
        Self.warn(about: market.skipped)
        if let empty = market.bars.first(where: { $0.value.isEmpty })?.key {
            throw RuntimeError("--replay: every stored \(replayBar) bar of \(empty) from \(replayFrom) has unusable values (see the warnings)")
        }
        return market
    }

    /// What stored bars a replay can play: prices that traded or were quoted.
    static let whats = ["TRADES", "MIDPOINT", "BID", "ASK"]

    /// One warning a skipped bar (a store written by another tool may hold NaN, inf or
    /// negative values: the replay leaves such a bar out rather than trade on it), the first few.
    static func warn(about skipped: [MarketReplay.SkippedBar]) {
        let shown = 10
        for bad in skipped.prefix(shown) {
            let time = BarBounds.timeProblem(bad.bar.time) == nil ? UTCTime.iso(bad.bar.time) + " UTC" : "epoch \(bad.bar.time)"
            Console.shared.log("warning: --replay: skipped the \(bad.symbol) bar at \(time): \(bad.reason)")
        }
        if skipped.count > shown { Console.shared.log("warning: --replay: skipped \(skipped.count - shown) more bars with unusable values") }
    }

    /// The paper gateway's name of an instrument key (`ES 202612` is its `ESZ6`); a stock it
    /// does not list keeps its own name (the gateway adds it).
    static func symbol(for key: String, in universe: [Instrument]) -> String {
        for instrument in universe {
            switch instrument.secType {
            case "CASH" where "\(instrument.ibSymbol).\(instrument.currency)" == key: return instrument.symbol
            case "FUT" where "\(instrument.ibSymbol) \(instrument.expiry.prefix(6))" == key: return instrument.symbol
            case "STK" where instrument.symbol == key: return instrument.symbol
            default: continue
            }
        }
        return key
    }

    func describe(_ replay: MarketReplay) -> String {
        let span = TimeSpan(replay.start, replay.end)
        let wall = Double(replay.end - replay.start) / replay.speed
        return "replaying \(replay.bars.keys.sorted().joined(separator: ", ")) from the bar store, \(span), at \(speed)x "
            + "(about \(wall < 120 ? String(format: "%.0f s", wall) : String(format: "%.0f min", wall / 60)) of wall time)"
            + (replay.spreadTicks == 0 ? ", quoted at the bars' own prices (no spread)" : "")
    }
}
