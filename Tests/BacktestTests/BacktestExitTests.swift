import Foundation
import MarketHistory
import Money
import Testing
@testable import Backtest

/// Exits that a bar could fill in more than one way: the backtest takes the price a real
/// order would have had (the open first: a gap fills at the open), and the conservative
/// choice where the bar cannot tell (the stop first). One-cancels-all siblings are settled in
/// id order, never in a dictionary's.
@Suite("Backtest exits: gaps, brackets, one-cancels-all order")
struct BacktestExitTests {
    static let start = BacktestRunTests.start

    /// A bracket bought at 14:31's open 100.00: take profit 105, stop loss 95; 14:32 is `bar`.
    static func bracketRun(_ bar: String) async throws -> BacktestResult {
        let csv = """
            time,open,high,low,close,volume
            2024-01-02T14:30:00Z,100.00,100.50,99.50,100.00,1000
            2024-01-02T14:31:00Z,100.00,100.50,99.50,100.00,1000
            2024-01-02T14:32:00Z,\(bar),1000
            2024-01-02T14:33:00Z,100.00,100.50,99.50,100.00,1000
            """
        let fixture = try await BacktestRunTests.fixture(csv: csv)
        let lua = """
            function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
            function on_bar(b)
              if not store.ids then store.ids = orders.bracket("AAPL", 100, { take_profit = 105, stop_loss = 95 }) end
            end
            function on_order(o)
              store.statuses = store.statuses or {}
              store.statuses[#store.statuses + 1] = o.type .. ":" .. o.status
            end
            """
        return try await BacktestRunTests.run(lua, fixture, span: TimeSpan(start, start + 4 * 60))
    }

    @Test("a bar that gaps through the stop: the stop sells at the 94 open, before the take-profit the bar's high reaches (-600 less commissions)")
    func gappedBracket() async throws {
        let result = try await Self.bracketRun("94.00,106.00,93.00,100.00")
        // Entry 100 shares at 14:31's open 100.00. 14:32 opens at 94.00, below the 95 stop:
        // a real stop is a market order from there, sold at 94.00. (94 - 100) * 100 = -600,
        // IB fixed 1.00 a side: -602. The take-profit (105, inside the range later) is cancelled.
        #expect(result.fills.map(\.price) == [100.00, 94.00])
        #expect(result.fills.map(\.time) == [Self.start + 60, Self.start + 120])
        #expect(abs(result.metrics.netPnL - -602.0) < 1e-9)
        let statuses = try BacktestRunTests.store(result)["statuses"] as? [String] ?? []
        #expect(statuses.contains("STP:filled") && statuses.contains("LMT:cancelled") && !statuses.contains("LMT:filled"), "\(statuses)")
        // A gap decided it: nothing ambiguous.
        #expect(result.ambiguousExits == 0)
        #expect(!result.notices.contains { $0.contains("reached both") })
    }

    @Test("both exits inside one bar's range: the stop is assumed first, counted, and the summary says so")
    func bothExitsInsideOneBar() async throws {
        let result = try await Self.bracketRun("100.00,106.00,94.00,100.00")
        // Opens at 100 (neither exit), then reaches 106 and 94: which came first the bar does
        // not say. The stop first: (95 - 100) * 100 - 2.00 = -502.
        #expect(result.fills.map(\.price) == [100.00, 95.00])
        #expect(abs(result.metrics.netPnL - -502.0) < 1e-9)
        #expect(result.ambiguousExits == 1)
        #expect(result.notices.contains("1 bar reached both the stop and the take-profit of one bracket (or OCA group): "
                                        + "the stop was assumed first (docs/backtest.md)"), "\(result.notices)")
    }

    @Test("a one-cancels-all group of three (and of eight): the one the bar reaches first fills, the others are cancelled in id order, the same every run")
    func ocaSiblingsInIdOrder() async throws {
        let fixture = try await BacktestRunTests.fixture()
        // 14:31 opens at 100.30 and trades down to 100.10: every limit is inside it. Falling
        // from the open it reaches the highest first (100.23 of three, 100.28 of eight), which
        // fills; its group's others are cancelled, in id order.
        let lua = """
            function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
            function on_bar(b)
              if store.three then return end
              local limits = { 100.21, 100.22, 100.23, 100.24, 100.25, 100.26, 100.27, 100.28 }
              store.three, store.eight = {}, {}
              for i = 1, 3 do store.three[i] = orders.buy("AAPL", 1, { limit = limits[i], oca = "three" }) end
              for i = 1, 8 do store.eight[i] = orders.buy("AAPL", 1, { limit = limits[i], oca = "eight" }) end
            end
            function on_order(o)
              if o.status == "cancelled" then
                store.cancelled = store.cancelled or {}
                store.cancelled[#store.cancelled + 1] = o.id
              end
            end
            """
        var rules = FillRules()
        rules.commission = .none
        let result = try await BacktestRunTests.run(lua, fixture, rules: rules)
        let store = try BacktestRunTests.store(result)
        let three = (store["three"] as? [Double] ?? []).map { Int($0) }
        let eight = (store["eight"] as? [Double] ?? []).map { Int($0) }
        try #require(three.count == 3 && eight.count == 8)
        #expect(result.fills.map(\.orderId) == [three[2], eight[7]])
        #expect(result.fills.map(\.price) == [100.23, 100.28])
        let cancelled = (store["cancelled"] as? [Double] ?? []).map { Int($0) }
        #expect(cancelled == Array(three.dropLast()) + Array(eight.dropLast()), "cancelled in id order: \(cancelled)")
        let again = try await BacktestRunTests.run(lua, fixture, rules: rules)
        #expect(again.fills == result.fills)
        #expect((try BacktestRunTests.store(again)["cancelled"] as? [Double] ?? []).map { Int($0) } == cancelled)
    }
}
