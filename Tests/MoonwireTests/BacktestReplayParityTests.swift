import Foundation
import MarketHistory
import NIOPosix
import Testing
import TWSProtocol
@testable import Backtest
@testable import Moonwire
@testable import PaperGateway
@testable import StrategyHost

/// Parity: one strategy file over the same stored bars gives the same fills (side, quantity,
/// price, commission) and the same net PnL in a backtest (`Backtester`, next-open fills) and
/// in a run on the paper gateway replaying those bars (`MoonwireRuntime` on its embedded
/// gateway, `MarketReplay` at a spread of 0): for a stock, a future (ES, 50 a point, 0.85 a
/// contract) and a forex pair (EUR.USD, 2.00 USD minimum).
///
/// The replay runs on the gateway's manual clock, a fifth of a 5-second bar a step, so every
/// step lands on a price the bar visits (open, extremes, close). The test steps to a bar's
/// end, waits until the strategy has handled the bar and its orders have reached the gateway
/// and come back as fills, then steps on: the order placed on a bar meets the next bar's open,
/// as the backtest's does, whatever the machine's speed. (A replay at wall-clock speed cannot
/// promise that: docs/backtest.md, "Parity with the replay".)
@Suite("Backtest and replay: the same fills and PnL", .serialized, .timeLimit(.minutes(2)))
struct BacktestReplayParityTests {
    static let start: Int64 = 1_704_205_800  // 2024-01-02 14:30 UTC
    static let barSeconds: Int64 = 5
    static let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()

    /// An SMA cross, long above and short below, by market orders on on_bar; the same file in
    /// both. Never on the last bar: a backtest has no next bar to fill that order (the replay
    /// would fill it at the last close).
    static let strategy = """
        local closes, n, placed, side = {}, 0, 0, 0
        function on_start() market.subscribe(params.symbol, { bars = "5 secs" }) end
        local function mean(k)
          local sum = 0
          for i = #closes - k + 1, #closes do sum = sum + closes[i] end
          return sum / k
        end
        function on_bar(b)
          n = n + 1
          closes[#closes + 1] = b.close
          if n >= params.slow and n < params.bars then
            local want = mean(params.fast) > mean(params.slow) and 1 or -1
            if want ~= side then
              local qty = params.qty * (side == 0 and 1 or 2)
              if want > 0 then orders.buy(params.symbol, qty) else orders.sell(params.symbol, qty) end
              placed = placed + 1
              side = want
            end
          end
          log.info(string.format("bar %d close %.5f placed %d", n, b.close, placed))
        end
        """

    /// Closes as multiples of the case's step from its base: three crosses and a position left
    /// open at the end (marked at the last close in both).
    static let path: [Double] = [0, 2, 4, 6, 5, 3, 0, -3, -5, -4, -1, 2, 5, 7, 6, 3, 0, -2, -1, 1]

    struct Case: Sendable, CustomStringConvertible {
        var key: String
        /// The paper gateway's name of it (`ES 202612` is its `ESZ6`).
        var gatewaySymbol: String
        var stored: StoredInstrument
        var what = "TRADES"
        var quantity: Double
        var base: Double
        var step: Double
        /// What IB's fixed schedule charges an order of `quantity` and one of twice that (a flip).
        var commissions: (single: Double, flip: Double)
        var description: String { key }

        /// The bars: closes along `path`, each open a tick off the close before (so the next
        /// open is never the close a decision saw), the extremes two ticks beyond.
        var bars: [StoredBar] {
            let tick = stored.tick
            func price(_ value: Double) -> Double { Double(String(format: "%.6f", value))! }
            var bars: [StoredBar] = []
            var previous = base
            for (index, offset) in BacktestReplayParityTests.path.enumerated() {
                let open = price(previous + (index % 2 == 0 ? tick : -tick))
                let close = price(base + offset * step)
                bars.append(StoredBar(time: BacktestReplayParityTests.start + Int64(index) * BacktestReplayParityTests.barSeconds,
                                      open: open, high: price(max(open, close) + 2 * tick), low: price(min(open, close) - 2 * tick),
                                      close: close, volume: 1_000))
                previous = close
            }
            return bars
        }
    }

    static let aapl = Case(key: "AAPL", gatewaySymbol: "AAPL", stored: StoredInstrument(key: "AAPL", secType: "STK", currency: "USD", exchange: "SMART"),
                           quantity: 100, base: 187.25, step: 0.05, commissions: (1.00, 1.00))
    static let es = Case(key: "ES 202612", gatewaySymbol: "ESZ6",
                         stored: StoredInstrument(key: "ES 202612", secType: "FUT", currency: "USD", exchange: "CME", multiplier: 50, tick: 0.25),
                         quantity: 1, base: 4800, step: 1, commissions: (0.85, 1.70))
    // 1.08437 is off EUR.USD's half-pip grid: both fill at the stored price as it is.
    static let eurusd = Case(key: "EUR.USD", gatewaySymbol: "EUR.USD",
                             stored: StoredInstrument(key: "EUR.USD", secType: "CASH", currency: "USD", exchange: "IDEALPRO", tick: 0.00005, pairBase: "EUR"),
                             what: "MIDPOINT", quantity: 20_000, base: 1.08437, step: 0.0002, commissions: (2.00, 2.00))

    /// One fill as both sides report it.
    struct Fill: Equatable, CustomStringConvertible {
        var buy: Bool
        var quantity: Double
        var price: Double
        var commission: Double
        var description: String { "\(buy ? "BOT" : "SLD") \(quantity) @ \(price) (commission \(commission))" }
    }

    struct Outcome {
        var fills: [Fill]
        var netPnL: Double
        /// The closes on_bar was given, in order.
        var closes: [Double] = []
    }

    static func params(_ c: Case) -> [String: String] {
        ["symbol": c.key, "qty": String(Int(c.quantity)), "fast": "2", "slow": "4", "bars": String(path.count)]
    }

    // MARK: The backtest

    static func backtest(_ c: Case, store: SQLiteBarStore, folder: URL) async throws -> (Outcome, BacktestResult) {
        let file = folder.appendingPathComponent("cross.lua")
        try strategy.write(to: file, atomically: true, encoding: .utf8)
        var setup = BacktestSetup(strategyPath: file.path, span: TimeSpan(start, start + Int64(path.count) * barSeconds))
        setup.barSize = "5 secs"
        setup.what = c.what
        setup.params = params(c)
        let (instrument, notice) = BacktestData.storedInstrument(try InstrumentSpec.parse(c.key), stored: try await store.instrument(c.key))
        #expect(notice == nil)
        let data = try await BacktestData.load(setup: setup, instruments: [instrument], store: store)
        let result = try await Backtester.run(data, loop: loop)
        let fills = result.fills.map { Fill(buy: $0.buy, quantity: $0.quantity, price: $0.price, commission: $0.commission) }
        return (Outcome(fills: fills, netPnL: result.metrics.netPnL), result)
    }

    // MARK: The replay

    /// How the replay run is made to differ, to show the comparison catches it.
    enum Variant: Equatable, Sendable {
        case parity
        /// Quoted a tick either side (the replay's default): a market order pays the spread.
        case spread(Int)
        /// The gateway charges another schedule.
        case commission(String)
        /// Each order reaches the gateway two steps (2 s of market time) after the bar's open,
        /// past the fifth of the bar the open holds.
        case late
    }

    static func replay(_ c: Case, bars: [StoredBar], variant: Variant = .parity) async throws -> Outcome {
        let replayed = bars.map { ReplayBar(time: $0.time, open: $0.open, high: $0.high, low: $0.low, close: $0.close, volume: $0.volume ?? 0) }
        let spread: Int
        if case let .spread(ticks) = variant { spread = ticks } else { spread = 0 }
        let embedded = try await Embedded.start { configuration in
            configuration.paper.market.clock = "manual"
            configuration.paper.market.tickIntervalMs = 1000  // a fifth of a 5-second bar a step
            configuration.paper.fills.partialFills = false  // the backtest fills orders whole
            if case let .commission(plan) = variant { configuration.paper.fills.commissionPlan = plan }
            configuration.paper.replay = MarketReplay(bars: [c.gatewaySymbol: replayed], barSeconds: Int(barSeconds), speed: 1, spreadTicks: spread)
        }
        do {
            let outcome = try await drive(embedded, c, bars: bars, variant: variant)
            _ = await embedded.stop()
            return outcome
        } catch {
            _ = await embedded.stop()
            throw error
        }
    }

    /// Waits up to 30 s for `condition` on the gateway's engine (polled: an event awaited).
    static func waitForGateway(_ gateway: PaperGatewayServer, _ what: String,
                               _ condition: @escaping @Sendable (GatewayEngine) -> Bool) async throws
    {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if try await gateway.withEngine(condition) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("the gateway never came to: \(what)")
    }

    static func drive(_ embedded: Embedded, _ c: Case, bars: [StoredBar], variant: Variant) async throws -> Outcome {
        let gateway = try #require(embedded.runtime.paperGateway)
        let file = try embedded.write("cross.lua", strategy)
        let name = try await embedded.runtime.addStrategy(file: file, params: params(c))
        let runtimeStrategy = try #require(embedded.runtime.runner.strategy(named: name))
        let symbol = c.gatewaySymbol
        try await waitForGateway(gateway, "a bar subscription to \(symbol)") { engine in
            engine.sessions.values.contains { $0.realTimeBars.values.contains(symbol) }
        }
        if variant == .late {
            // Order requests wait at the gateway until released (the `hold` fault, open-ended).
            try await gateway.withEngine { $0.faults.holdUntil = .infinity }
        }
        var closes: [Double] = []
        var heldOrders = 0
        for index in bars.indices {
            // Five steps: the open's end, the extremes, the close, then the next bar's open,
            // which sends the bar.
            try await gateway.withEngine { engine in for _ in 0..<5 { engine.step() } }
            let lines = try await embedded.waitForLines(name) { $0.contains { $0.contains("bar \(index + 1) close ") } }
            let line = try #require(lines.first { $0.contains("bar \(index + 1) close ") })
            let words = line.split(separator: " ")
            let at = try #require(words.firstIndex(of: "close"))
            closes.append(try #require(Double(words[at + 1])))
            let placed = try #require(words.last.flatMap { Int($0) })
            if variant == .late, placed > heldOrders {
                heldOrders = placed
                try await waitForGateway(gateway, "\(placed) orders held") { engine in
                    engine.faults.held.filter { if case .placeOrder = $0.request { true } else { false } }.count + engine.orders.count == placed
                }
                try await gateway.withEngine { engine in
                    engine.step()
                    engine.step()
                    engine.faults.holdUntil = 0
                    engine.releaseHeld()
                    engine.faults.holdUntil = .infinity
                }
            }
            // The orders placed so far reached the gateway (a market order fills as it comes),
            // and their fills and commissions came back to the strategy.
            try await waitForGateway(gateway, "\(placed) orders") { $0.orders.count == placed }
            let executions = try await gateway.withEngine { $0.executions.count }
            let deadline = Date().addingTimeInterval(30)
            while true {
                let told = try await runtimeStrategy.loop.submit { runtimeStrategy.statistics.fills }.get()
                let snapshot = await embedded.runtime.snapshot()
                if told == executions && snapshot.executions.filter({ $0.commission != nil }).count == executions { break }
                guard Date() < deadline else { throw TestFailure("the strategy was not told \(executions) fills with commissions") }
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        let lastClose = try #require(bars.last?.close)
        let terms = c.stored.terms
        let summary = await embedded.runtime.stop()
        let part = try #require(summary.strategies.first { $0.name == name })
        let fills = part.fills.filter { $0.corrects == nil }.map {
            Fill(buy: $0.side == "BOT", quantity: $0.shares, price: $0.price, commission: $0.commission?.commission ?? .nan)
        }
        // Net: realized after commissions, plus what is held at the last close less its cost
        // (the average price per unit holds the commission paid to open it, as IB's does).
        let open = part.positions.reduce(0.0) { $0 + $1.quantity * (lastClose - $1.averageCost) * terms.multiplier }
        return Outcome(fills: fills, netPnL: part.statistics.realizedPnL + open, closes: closes)
    }

    /// What differs between the two outcomes, as sentences (empty: parity).
    static func differences(_ backtest: Outcome, _ replay: Outcome) -> [String] {
        var found: [String] = []
        if backtest.fills.count != replay.fills.count {
            found.append("fills: \(backtest.fills.count) in the backtest, \(replay.fills.count) in the replay")
        }
        for (index, (tested, replayed)) in zip(backtest.fills, replay.fills).enumerated() where tested != replayed {
            found.append("fill \(index + 1): backtest \(tested), replay \(replayed)")
        }
        if abs(backtest.netPnL - replay.netPnL) > 1e-6 {
            found.append("net PnL: backtest \(backtest.netPnL), replay \(replay.netPnL)")
        }
        return found
    }

    static func stored(_ c: Case) async throws -> (SQLiteBarStore, URL, [StoredBar]) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-parity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = try SQLiteBarStore(path: folder.appendingPathComponent("bars.sqlite").path)
        let bars = c.bars
        try await store.write(bars, of: BarSeries(instrument: c.key, barSize: "5 secs", what: c.what),
                              covering: TimeSpan(start, start + Int64(bars.count) * barSeconds))
        try await store.saveInstrument(c.stored)
        return (store, folder, try await store.bars(BarSeries(instrument: c.key, barSize: "5 secs", what: c.what),
                                                    in: TimeSpan(start, start + Int64(bars.count) * barSeconds)))
    }

    @Test("the same fills and net PnL in the backtest and on the replaying paper gateway", arguments: [aapl, es, eurusd])
    func parity(_ c: Case) async throws {
        let (store, folder, bars) = try await Self.stored(c)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (tested, result) = try await Self.backtest(c, store: store, folder: folder)
        // The backtest by itself, worked by hand: every order a market order filled at the next
        // bar's open, the first one `quantity`, each flip twice that, at IB's fixed commission.
        #expect(tested.fills.count == 4, "\(tested.fills)")
        #expect(result.openPositions[c.key].map(abs) == c.quantity)
        for (index, fill) in tested.fills.enumerated() {
            let placedOn = Int((result.fills[index].time - Self.start) / Self.barSeconds) - 1
            #expect(fill.price == bars[placedOn + 1].open, "fill \(index + 1) at the open after the bar that placed it")
            #expect(fill.quantity == (index == 0 ? c.quantity : 2 * c.quantity))
            #expect(abs(fill.commission - (index == 0 ? c.commissions.single : c.commissions.flip)) < 1e-9, "\(fill)")
        }
        let replayed = try await Self.replay(c, bars: bars)
        // The strategy on the gateway was given the stored closes, bar for bar.
        #expect(replayed.closes == bars.map { Double(String(format: "%.5f", $0.close))! })
        #expect(Self.differences(tested, replayed) == [], "backtest \(tested.fills) net \(tested.netPnL); replay \(replayed.fills) net \(replayed.netPnL)")
    }

    @Test("the comparison sees a difference: the default spread, another commission schedule, an order that meets a later price",
          arguments: [Variant.spread(1), .commission("ib-tiered"), .late])
    func comparisonCatches(_ variant: Variant) async throws {
        let c = Self.aapl
        let (store, folder, bars) = try await Self.stored(c)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (tested, _) = try await Self.backtest(c, store: store, folder: folder)
        let replayed = try await Self.replay(c, bars: bars, variant: variant)
        let found = Self.differences(tested, replayed)
        #expect(!found.isEmpty)
        switch variant {
        case .spread, .late: #expect(found.contains { $0.contains("fill 1:") } && found.contains { $0.hasPrefix("net PnL") }, "\(found)")
        case .commission: #expect(found.contains { $0.contains("commission 0.35") }, "\(found)")
        case .parity: break
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
