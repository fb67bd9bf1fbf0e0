import Foundation
import MarketHistory
import NIOPosix
import StrategyHost
import TWSProtocol
import Testing
@testable import Backtest

/// A backtest's money from the instrument details stored with the bars (the same offline as
/// online), fills without a silent rounding to a default tick, and the currency rates it needs.
@Suite("Backtest: stored instrument details and currencies")
struct StoredDetailsBacktestTests {
    static let start: Int64 = 1_704_205_800  // 2024-01-02 14:30 UTC
    static let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()

    static func store() throws -> (SQLiteBarStore, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-details-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return (try SQLiteBarStore(path: folder.appendingPathComponent("bars.sqlite").path), folder)
    }

    /// Six one-minute bars from 14:30 with these opens (high/low around them), stored under `key`.
    static func write(_ opens: [Double], key: String, what: String = "TRADES", to store: SQLiteBarStore, from: Int64 = start) async throws {
        let bars = opens.enumerated().map { index, open in
            StoredBar(time: from + Int64(index) * 60, open: open, high: open * 1.001, low: open * 0.999, close: open, volume: 1000)
        }
        try await store.write(bars, of: BarSeries(instrument: key, barSize: "1 min", what: what), covering: TimeSpan(from, from + Int64(opens.count) * 60))
    }

    /// Buys `qty` of `symbol` on bar 2, sells on bar 4: filled at the opens of bars 3 and 5.
    static func roundTrip(_ symbol: String, _ qty: Double) -> String {
        """
        local n = 0
        function on_start() market.subscribe("\(symbol)", { bars = "1 min" }) end
        function on_bar(b)
          n = n + 1
          if n == 2 then orders.buy("\(symbol)", \(qty)) end
          if n == 4 then orders.sell("\(symbol)", \(qty)) end
        end
        """
    }

    static func run(_ lua: String, instruments: [ResolvedInstrument], store: SQLiteBarStore, folder: URL,
                    configure: (inout BacktestSetup) -> Void = { _ in }) async throws -> (BacktestData, BacktestResult)
    {
        let file = folder.appendingPathComponent("strategy.lua")
        try lua.write(to: file, atomically: true, encoding: .utf8)
        var setup = BacktestSetup(strategyPath: file.path, span: TimeSpan(start, start + 6 * 60))
        configure(&setup)
        let data = try await BacktestData.load(setup: setup, instruments: instruments, store: store)
        return (data, try await Backtester.run(data, loop: loop))
    }

    @Test("ES from its stored details: 1 contract, +10 points is 500 less commissions, with no connection")
    func futureFromStoredDetails() async throws {
        let (store, folder) = try Self.store()
        try await Self.write([4795, 4798, 4800, 4805, 4810, 4812], key: "ES 202612", to: store)
        try await store.saveInstrument(StoredInstrument(key: "ES 202612", secType: "FUT", currency: "USD", exchange: "CME", multiplier: 50, tick: 0.25))
        let spec = try InstrumentSpec.parse("ES 202612")
        let (instrument, notice) = BacktestData.storedInstrument(spec, stored: try await store.instrument("ES 202612"))
        #expect(notice == nil)
        #expect(instrument.multiplier == 50 && instrument.details.minTick == 0.25)
        #expect(instrument.contract.exchange == "CME" && instrument.contract.currency == "USD" && instrument.contract.secType == "FUT")
        let (data, result) = try await Self.run(Self.roundTrip("ES 202612", 1), instruments: [instrument], store: store, folder: folder)
        #expect(data.series[0].tickSize == 0.25 && data.series[0].terms.multiplier == 50)
        #expect(result.fills.map(\.price) == [4800, 4810])
        // (4810 - 4800) * 50 = 500, less what the two fills cost.
        #expect(abs(result.metrics.netPnL + result.metrics.commissions - 500) < 1e-9)
        #expect(data.rates.isEmpty)
    }

    @Test("without stored details the backtest says what it assumed (multiplier 1, tick 0.01)")
    func missingDetailsAreSaid() async throws {
        let spec = try InstrumentSpec.parse("ES 202612")
        let (instrument, notice) = BacktestData.storedInstrument(spec, stored: nil)
        #expect(instrument.multiplier == 1)
        #expect(notice == "ES 202612: no stored instrument details: multiplier 1 and tick 0.01 assumed; "
            + "import with --multiplier/--tick or download the bars once")
        let (_, given) = BacktestData.storedInstrument(spec, stored: nil, multiplier: 50)
        #expect(given?.contains("tick 0.01 assumed") == true && given?.contains("multiplier 1") == false)
        // Unusable stored details (another tool's row) are not used, and said so.
        let bad = StoredInstrument(key: "ES 202612", secType: "FUT", currency: "USD", multiplier: .nan, tick: 0.25)
        let (fallback, why) = BacktestData.storedInstrument(spec, stored: bad)
        #expect(fallback.multiplier == 1 && why?.contains("unusable") == true)
    }

    @Test("EUR.USD bought at the open 1.08437 fills at 1.08437 with no slippage (no rounding to a tick)")
    func forexFillIsNotRounded() async throws {
        let (store, folder) = try Self.store()
        try await Self.write([1.08401, 1.08420, 1.08437, 1.08450, 1.08489, 1.08500], key: "EUR.USD", what: "MIDPOINT", to: store)
        let spec = try InstrumentSpec.parse("EUR.USD")
        let (eur, _) = BacktestData.storedInstrument(spec, stored: nil)
        let (_, result) = try await Self.run(Self.roundTrip("EUR.USD", 1_000), instruments: [eur], store: store, folder: folder) {
            $0.what = "MIDPOINT"
        }
        #expect(result.fills.map(\.price) == [1.08437, 1.08489])

        // The broker alone: a market and a stop, both at the bar's own price.
        var broker = SimulatedBroker(rules: FillRules())
        _ = broker.place(SimulatedOrder(id: 1, buy: true, quantity: 20_000, kind: .market))
        _ = broker.place(SimulatedOrder(id: 2, buy: false, quantity: 20_000, kind: .stop(1.08433)))
        let fills = broker.open(StoredBar(time: 0, open: 1.08437, high: 1.0845, low: 1.08401, close: 1.0842))
        #expect(fills.fills.map(\.price) == [1.08437, 1.08433])
        // With slippage, the slipped price lies on the tick grid.
        var rules = FillRules()
        rules.slippageTicks = 1
        rules.tickSize = 0.00005
        var slipping = SimulatedBroker(rules: rules)
        _ = slipping.place(SimulatedOrder(id: 1, buy: true, quantity: 20_000, kind: .market))
        #expect(slipping.open(StoredBar(time: 0, open: 1.08437, high: 1.0845, low: 1.08401, close: 1.0842)).fills.map(\.price) == [1.0844])
    }

    @Test("a JPY stock needs USD.JPY rates: refused naming the download; with them, JPY's rate is 1 / USD.JPY's close")
    func foreignCurrencyNeedsRates() async throws {
        let (store, folder) = try Self.store()
        try await Self.write([2500, 2510, 2520, 2530, 2540, 2550], key: "7203", to: store)
        let toyota = StoredInstrument(key: "7203", secType: "STK", currency: "JPY", exchange: "TSEJ", multiplier: 1, tick: 1)
        let (instrument, _) = BacktestData.storedInstrument(try InstrumentSpec.parse("7203"), stored: toyota)
        #expect(instrument.contract.currency == "JPY")
        let refusal = await #expect(throws: BacktestDataError.self) {
            _ = try await Self.run(Self.roundTrip("7203", 100), instruments: [instrument], store: store, folder: folder)
        }
        #expect(refusal?.message.contains("7203 is quoted in JPY") == true, "\(String(describing: refusal))")
        #expect(refusal?.message.contains("moonwire history USD.JPY --bar \"1 min\" --what MIDPOINT --from 2024-01-02 --to 2024-01-03") == true,
                "\(String(describing: refusal))")

        // Rates that start after the first JPY bar leave it without a value: refused too.
        try await Self.write([150, 150, 150], key: "USD.JPY", what: "MIDPOINT", to: store, from: Self.start + 60)
        let late = await #expect(throws: BacktestDataError.self) {
            _ = try await Self.run(Self.roundTrip("7203", 100), instruments: [instrument], store: store, folder: folder)
        }
        #expect(late?.message.contains("start at 2024-01-02 14:31, after the first JPY bar (2024-01-02 14:30)") == true, "\(String(describing: late))")

        try await Self.write([149.5, 150, 150.5, 151, 151.5, 152], key: "USD.JPY", what: "MIDPOINT", to: store)
        let (data, _) = try await Self.run(Self.roundTrip("7203", 100), instruments: [instrument], store: store, folder: folder)
        let jpy = try #require(data.rates(of: "JPY"))
        #expect(data.rates.count == 1 && jpy.base == "USD" && jpy.source.instrument == "USD.JPY")
        #expect(jpy.rate(at: Self.start) == 1 / 149.5 && jpy.rate(at: Self.start + 150) == 1 / 150.5)

        // Counted in JPY instead, nothing is converted.
        let (inYen, _) = try await Self.run(Self.roundTrip("7203", 100), instruments: [instrument], store: store, folder: folder) {
            $0.baseCurrency = "JPY"
        }
        #expect(inYen.rates.isEmpty)
    }

    @Test("USD.JPY traded with base USD gives JPY's rate itself; EUR.USD needs none")
    func pairGivesItsOwnRate() async throws {
        let (store, folder) = try Self.store()
        try await Self.write([150, 150.2, 150.4, 150.6, 150.8, 151], key: "USD.JPY", to: store)
        try await Self.write([1.08, 1.081, 1.082, 1.083, 1.084, 1.085], key: "EUR.USD", to: store)
        let usdjpy = BacktestData.storedInstrument(try InstrumentSpec.parse("USD.JPY"), stored: nil).instrument
        let eurusd = BacktestData.storedInstrument(try InstrumentSpec.parse("EUR.USD"), stored: nil).instrument
        let (data, _) = try await Self.run(Self.roundTrip("USD.JPY", 1_000), instruments: [usdjpy, eurusd], store: store, folder: folder)
        #expect(data.rates.map(\.currency) == ["JPY"])
        #expect(data.rates[0].source == BarSeries(instrument: "USD.JPY", barSize: "1 min", what: "TRADES"))
        #expect(data.rates[0].rate(at: Self.start + 300) == 1 / 151.0)
        #expect(data.series[0].terms.quantityUnit == "USD" && data.series[1].terms.quantityUnit == "EUR")

        // EUR.JPY with base USD: its own bars give EUR in JPY, not JPY in USD; USD.JPY does.
        try await Self.write([162, 162.1, 162.2, 162.3, 162.4, 162.5], key: "EUR.JPY", to: store)
        let eurjpy = BacktestData.storedInstrument(try InstrumentSpec.parse("EUR.JPY"), stored: nil).instrument
        let (cross, _) = try await Self.run(Self.roundTrip("EUR.JPY", 1_000), instruments: [eurjpy], store: store, folder: folder)
        #expect(cross.rates.map(\.source.instrument) == ["USD.JPY"])
    }
}
