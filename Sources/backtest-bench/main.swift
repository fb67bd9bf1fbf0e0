import Backtest
import Foundation
import Logging
import MarketHistory
import NIOPosix
import StrategyHost
import TWSProtocol

// Backtest throughput, run by Scripts/bench (never a timed unit test). Stores N one-minute
// bars of one instrument in a fresh SQLite bar store, reads them back, then runs strategy
// files over them through the host's own Strategy: bars/s is bars handled (clock moved,
// broker met, on_bar called when defined) per second of wall time of the run, the load from
// the store not included (it is measured on its own line).
//
//   backtest-bench [BARS] [STRATEGY.lua ...]
//   backtest-bench csv BARS FILE.csv        a generated CSV of BARS 1-minute bars (ResearchBench.swift)
//   backtest-bench import FILE.csv STORE    CSV import into a fresh SQLite store: bars/s
//   backtest-bench read STORE               chunked reads from the store: bars/s

if let mode = CommandLine.arguments.dropFirst().first, ResearchBench.modes.contains(mode) {
    try await ResearchBench.run(mode, Array(CommandLine.arguments.dropFirst(2)))
    exit(0)
}

let arguments = CommandLine.arguments.dropFirst()
let count = Int(arguments.first ?? "") ?? 1_000_000
let files = Array(arguments.dropFirst())

let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-backtest-bench-\(getpid())")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: folder) }

// A seeded random walk, 1-minute bars from 2020-01-01 00:00 UTC, around the clock.
let start: Int64 = 1_577_836_800
var bars: [StoredBar] = []
bars.reserveCapacity(count)
var price = 100.0
var seed: UInt64 = 42
func random(_ seed: inout UInt64) -> Double {
    seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return Double(seed >> 11) / Double(1 << 53)
}
for index in 0..<count {
    let open = price
    let close = max(1, open * (1 + (random(&seed) - 0.5) * 0.002))
    let high = max(open, close) * (1 + random(&seed) * 0.0005), low = min(open, close) * (1 - random(&seed) * 0.0005)
    bars.append(StoredBar(time: start + Int64(index) * 60, open: (open * 100).rounded() / 100, high: (high * 100).rounded() / 100,
                          low: (low * 100).rounded() / 100, close: (close * 100).rounded() / 100, volume: 1_000, count: 10))
    price = close
}
let span = TimeSpan(start, start + Int64(count) * 60)
let series = BarSeries(instrument: "AAPL", barSize: "1 min")
let store = try SQLiteBarStore(path: folder.appendingPathComponent("bars.sqlite").path)
var clock = ContinuousClock.now
try await store.write(bars, of: series, covering: span)
let written = ContinuousClock.now - clock
func rate(_ n: Int, _ duration: Duration) -> String {
    let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    return String(format: "%.0f", Double(n) / seconds)
}
print("store: \(count) 1-min bars written in \(written) (\(rate(count, written)) bars/s into SQLite)")

let noop = folder.appendingPathComponent("noop.lua")
try "-- does nothing: no handlers\n".write(to: noop, atomically: true, encoding: .utf8)
let emptyBar = folder.appendingPathComponent("empty_on_bar.lua")
try """
    function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
    function on_bar(b) end
    """.write(to: emptyBar, atomically: true, encoding: .utf8)

let spec = try InstrumentSpec.parse("AAPL")
let instrument = ResolvedInstrument(key: "AAPL", contract: spec.contract, details: ContractDetails())
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
var quiet = Logger(label: "backtest")
quiet.logLevel = .critical
for file in [noop.path, emptyBar.path] + files {
    var setup = BacktestSetup(strategyPath: file, span: span)
    setup.params = ["symbol": "AAPL", "qty": "10"]
    setup.host.risk.maxPosition = 1e9
    setup.host.risk.maxOrderNotional = 1e12
    setup.host.risk.maxOrdersPerMinute = 1_000_000
    setup.host.risk.maxDailyLoss = 1e12
    clock = ContinuousClock.now
    let data = try await BacktestData.load(setup: setup, instruments: [instrument], store: store)
    let loaded = ContinuousClock.now - clock
    clock = ContinuousClock.now
    let result = try await Backtester.run(data, loop: group.next(), logger: quiet)
    let ran = ContinuousClock.now - clock
    let name = URL(fileURLWithPath: file).lastPathComponent
    print("\(name): \(result.metrics.barsProcessed) bars in \(ran): \(rate(result.metrics.barsProcessed, ran)) bars/s through the strategy "
          + "(\(result.statistics.eventsDelivered) events delivered, \(result.metrics.fills) fills; loading from SQLite: \(rate(data.barCount, loaded)) bars/s)")
}
try await group.shutdownGracefully()
