import Money
import Testing
@testable import Backtest

/// A round trip's exit price is the average of the fills that closed it, by quantity, as its
/// entry price is of the fills that opened it (found by an attacker: it was the last fill's).
@Suite("Backtest trades: exit price")
struct TradeExitPriceTests {
    static func fill(_ buy: Bool, _ quantity: Double, _ price: Double, at minute: Int64) -> BacktestFill {
        BacktestFill(orderId: Int(minute), instrument: "TINY", time: 1_704_205_800 + minute * 60, buy: buy, quantity: quantity, price: price,
                     commission: 0)
    }

    @Test("a long of 150 closed by 70 at 100 and 80 at 99 exits at 99.4667; a reversal's first trade exits at the reversing fill")
    func averageOfTheClosingFills() {
        var ledger = BacktestLedger(initialCash: 100_000, keys: ["TINY"], terms: [InstrumentTerms()], base: "USD", samples: 8)
        ledger.record(Self.fill(true, 100, 101, at: 0), instrument: 0)
        ledger.record(Self.fill(true, 50, 102, at: 1), instrument: 0)
        ledger.record(Self.fill(false, 70, 100, at: 2), instrument: 0)
        ledger.record(Self.fill(false, 80, 99, at: 3), instrument: 0)
        ledger.record(Self.fill(false, 30, 98, at: 4), instrument: 0)  // opens a short
        ledger.record(Self.fill(true, 60, 97, at: 5), instrument: 0)   // closes it and opens a long of 30
        let trades = ledger.trades
        #expect(trades.count == 3)
        #expect(abs(trades[0].entryPrice - (100 * 101 + 50 * 102) / 150.0) < 1e-9)
        #expect(abs(trades[0].exitPrice! - (70 * 100 + 80 * 99) / 150.0) < 1e-9, "\(trades[0])")
        #expect(abs(trades[0].pnl - ((70 * 100 + 80 * 99) - (100 * 101 + 50 * 102))) < 1e-9)
        #expect(trades[1].direction == -1 && trades[1].exitPrice == 97 && trades[1].quantity == 30)
        #expect(trades[2].direction == 1 && trades[2].exitPrice == nil && trades[2].quantity == 30)
    }
}
