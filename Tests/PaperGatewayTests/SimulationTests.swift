import Foundation
import TestSupport
import NIOCore
import Money
import Testing
import TWSProtocol
@testable import PaperGateway

@Suite("Simulated market, account and rules")
struct SimulationTests {
    @Test("the same seed gives the same quotes; another seed does not")
    func deterministicMarket() {
        func path(_ seed: UInt64) -> [Quote] {
            var market = MarketSimulator(instruments: Instrument.defaultUniverse, seed: seed, now: 0)
            return (0..<50).map { step in
                _ = market.step(seconds: 0.25, now: Double(step))
                return market.quote(symbol: "AAPL")!
            }
        }
        #expect(path(1) == path(1))
        #expect(path(1) != path(2))
        #expect(path(1).allSatisfy { $0.ask > $0.bid && $0.bidSize > 0 })
    }

    @Test("moving instruments one at a time gives each symbol the same path as moving all together")
    func staggeredPathsMatchLockstep() {
        var together = MarketSimulator(instruments: Instrument.defaultUniverse, seed: 9, now: 0)
        var oneByOne = together
        for round in 0..<40 {
            let trades = together.step(seconds: 0.1, now: Double(round))
            var staggered: [Trade] = []
            for index in oneByOne.instruments.indices {
                if let trade = oneByOne.stepInstrument(at: index, seconds: 0.1, now: Double(round)) { staggered.append(trade) }
            }
            #expect(trades == staggered)
            #expect(together.quotes == oneByOne.quotes)
            #expect(together.steps == oneByOne.steps)
        }
    }

    @Test("the realtime clock moves each instrument once per interval at its own moment, and catches up at most one interval")
    func staggeredClock() async throws {
        var config = PaperGatewayConfig()
        config.port = 0
        config.market.clock = "manual"  // no timer: the test drives the clock
        config.market.tickIntervalMs = 100
        config.instruments = Array(Instrument.defaultUniverse.prefix(10))  // the ten stocks: one every 10 ms
        let server = try await PaperGatewayServer.start(config: config)
        let count = config.instruments.count
        let start = NIODeadline.now()
        func advance(ms: Int64) async throws -> (steps: Int, quotes: [Quote]) {
            try await server.withEngine { engine in
                engine.advanceRealtimeClock(to: start + .milliseconds(ms))
                return (engine.market.steps, engine.market.quotes)
            }
        }
        let initial = try await advance(ms: 0)
        // 100 ms over 10 instruments: one moves every 10 ms, in turn.
        let early = try await advance(ms: 35)
        #expect((3..<count).allSatisfy { early.quotes[$0] == initial.quotes[$0] })  // only 0, 1 and 2 are due
        #expect(early.quotes[0] != initial.quotes[0])
        #expect(early.steps == 0)
        let round = try await advance(ms: 100)
        #expect(round.steps == 1)
        // A timer ten seconds late moves every instrument once, not a hundred times.
        let late = try await advance(ms: 10_100)
        #expect(late.steps == 2)
        let after = try await advance(ms: 10_110)
        #expect(after.steps == 2)
        #expect(Array(after.quotes[1...]) == Array(late.quotes[1...]))  // 10 ms later only instrument 0 is due
        try await server.shutdown()
    }

    @Test("average cost includes commissions (a short's reduces it); closing realizes PnL")
    func account() {
        let usd = Commission(amount: 1, currency: "USD")
        var account = PaperAccount(id: "DU1", cash: 10_000)
        #expect(account.apply(symbol: "X", conId: 1, terms: InstrumentTerms(), execId: "1", buy: true, quantity: 100, price: 10, commission: usd) == nil)
        #expect(account.holdings["X"]!.averageCost == 10.01)
        #expect(account.cash == 10_000 - 1000 - 1)
        let realized = account.apply(symbol: "X", conId: 1, terms: InstrumentTerms(), execId: "2", buy: false, quantity: 40, price: 11, commission: usd)
        #expect(abs(realized! - (40 * 0.99 - 1)) < 1e-9)
        #expect(account.holdings["X"]!.quantity == 60)
        // Sell 100 @ 12 paying 1.00: 60 close, 40 open short with 0.40 of it: (−480 + 0.40) / −40 = 11.99.
        _ = account.apply(symbol: "X", conId: 1, terms: InstrumentTerms(), execId: "3", buy: false, quantity: 100, price: 12, commission: usd)
        #expect(account.holdings["X"]!.quantity == -40)
        #expect(abs(account.holdings["X"]!.averageCost - 11.99) < 1e-9)
        // Short 100 @ 10 paying 1.00, covered @ 10 paying 1.00: −2.00 (the old account said 0.00).
        var short = PaperAccount(id: "DU1", cash: 10_000)
        short.apply(symbol: "Y", conId: 2, terms: InstrumentTerms(), execId: "1", buy: false, quantity: 100, price: 10, commission: usd)
        let covered = short.apply(symbol: "Y", conId: 2, terms: InstrumentTerms(), execId: "2", buy: true, quantity: 100, price: 10, commission: usd)
        #expect(abs(covered! - -2) < 1e-9)
        #expect(abs(short.realizedPnL - -2) < 1e-9)
    }

    @Test("the gateway charges the one commission schedule")
    func commissions() {
        let stock = InstrumentTerms()
        #expect(CommissionSchedule.ibFixed.charge(stock, quantity: 100, price: 187).amount == 1.0)
        #expect(CommissionSchedule.ibFixed.charge(stock, quantity: 1000, price: 187).amount == 5.0)
        #expect(CommissionSchedule.ibFixed.charge(stock, quantity: 100, price: 0.5).amount == 0.5)
        // A partial fill after the minimum: only what the order owes beyond what it paid.
        #expect(CommissionSchedule.ibFixed.charge(stock, quantity: 300, price: 187, before: OrderSoFar(quantity: 100, value: 18_700, paid: 1)).amount == 1.0)
    }

    @Test("orders: LMT fills only when marketable; stops trigger then execute")
    func matching() {
        let quote = Quote(bid: 99.99, ask: 100.01, bidSize: 300, askSize: 200, last: 100, lastSize: 100, volume: 0, high: 100,
                          low: 100, open: 100, close: 100, lastTradeTime: 0)
        var limit = PaperOrder(orderId: 1, clientId: 1, permId: 1, contract: Contract(symbol: "X"),
                               order: Order(action: "BUY", quantity: 500, type: "LMT", limit: 100.00))
        limit.status = "Submitted"
        #expect(limit.match(quote: quote, maxShares: 200) == nil)
        limit.order.lmtPrice = 100.01
        #expect(limit.match(quote: quote, maxShares: 200)! == (200, 100.01))
        var stop = PaperOrder(orderId: 2, clientId: 1, permId: 2, contract: Contract(symbol: "X"),
                              order: Order(action: "SELL", quantity: 100, type: "STP", stop: 99.5))
        stop.status = "PreSubmitted"
        #expect(stop.match(quote: quote, maxShares: nil) == nil && !stop.triggered)
        var lower = quote
        lower.bid = 99.5
        lower.last = 99.5
        #expect(stop.match(quote: lower, maxShares: nil)! == (100, 99.5))
        #expect(stop.triggered)
    }

    @Test("historical pacing: identical in 15 s, 6 per contract in 2 s, 60 in 10 minutes")
    func pacing() {
        var pacing = HistoricalPacing()
        #expect(pacing.admit(identity: "a", contractKey: "AAPL", now: 0) == nil)
        #expect(pacing.admit(identity: "a", contractKey: "AAPL", now: 14)?.contains("identical") == true)
        #expect(pacing.admit(identity: "a", contractKey: "AAPL", now: 16) == nil)
        var burst = HistoricalPacing()
        for index in 0..<5 { #expect(burst.admit(identity: "b\(index)", contractKey: "MSFT", now: 100) == nil) }
        #expect(burst.admit(identity: "b5", contractKey: "MSFT", now: 100.5)?.contains("6 or more") == true)
        var window = HistoricalPacing()
        for index in 0..<60 { #expect(window.admit(identity: "c\(index)", contractKey: "K\(index)", now: Double(index * 3)) == nil) }
        #expect(window.admit(identity: "c60", contractKey: "K60", now: 200)?.contains("60 requests") == true)
        #expect(window.admit(identity: "c61", contractKey: "K61", now: 601) == nil)
    }

    @Test("bar sizes, durations and end dates as IB spells them")
    func historyParsing() {
        #expect(BarHistory.barSeconds("1 min") == 60)
        #expect(BarHistory.barSeconds("5 secs") == 5)
        #expect(BarHistory.barSeconds("1 day") == 86400)
        #expect(BarHistory.barSeconds("7 mins") == nil)
        #expect(BarHistory.durationSeconds("2 W") == 14 * 86400)
        #expect(BarHistory.durationSeconds("3600 S") == 3600)
        #expect(BarHistory.durationSeconds("1 X") == nil)
        let eastern = TimeZone(identifier: "US/Eastern")!
        #expect(BarHistory.parseEndDate("20260102 16:00:00 US/Eastern", defaultZone: eastern)?.timeIntervalSince1970 == 1_767_387_600)
        #expect(BarHistory.parseEndDate("20260102-21:00:00", defaultZone: eastern)?.timeIntervalSince1970 == 1_767_387_600)
        #expect(BarHistory.parseEndDate("20261340 10:00:00", defaultZone: eastern) == nil)
        #expect(BarHistory.parseEndDate("yesterday", defaultZone: eastern) == nil)
    }

    @Test("history ends at the current price and repeats for the same request")
    func history() throws {
        let instrument = Instrument.defaultUniverse[0]
        let zone = TimeZone(identifier: "US/Eastern")!
        let bars = try BarHistory.bars(instrument: instrument, seed: 1, barSeconds: 60, durationSeconds: 3600, end: 1_767_387_600,
                                       price: 190.12, whatToShow: "TRADES", formatDate: 1, zone: zone)
        #expect(bars.count == 60)
        #expect(bars.last!.close == 190.12)
        #expect(bars.last!.date == "20260102 15:59:00 US/Eastern")
        #expect(bars == (try BarHistory.bars(instrument: instrument, seed: 1, barSeconds: 60, durationSeconds: 3600, end: 1_767_387_600,
                                             price: 190.12, whatToShow: "TRADES", formatDate: 1, zone: zone)))
    }

    @Test("the shipped Config/moonwire.yaml is the built-in default, and bad configs name the key")
    func config() throws {
        let path = SourceTree.url("Config/moonwire.yaml").path
        #expect(try PaperGatewayConfig.load(path: path) == PaperGatewayConfig())
        #expect(throws: ConfigError(message: "t.yaml: paper_gateway.market.speed is not a setting (known: clock, live_data, regular_hours_only, tick_interval_ms)")) {
            try PaperGatewayConfig.load(yaml: "paper_gateway:\n  market: {speed: 2}\n", source: "t.yaml")
        }
        #expect(throws: ConfigError(message: "t.yaml: paper_gateway.port: 70000 is not a TCP port (0-65535)")) {
            try PaperGatewayConfig.load(yaml: "paper_gateway:\n  port: 70000\n", source: "t.yaml")
        }
        #expect(throws: ConfigError(message: "t.yaml: paper_gateway.instruments[1] (AAPL): symbol appears twice")) {
            try PaperGatewayConfig.load(yaml: """
                paper_gateway:
                  instruments:
                    - {symbol: AAPL, con_id: 1, primary_exchange: NASDAQ, start_price: 10}
                    - {symbol: AAPL, con_id: 2, primary_exchange: NASDAQ, start_price: 10}
                """, source: "t.yaml")
        }
        #expect(try PaperGatewayConfig.load(yaml: "other_section: 1\n", source: "t.yaml") == PaperGatewayConfig())
    }
}
