import Money
import Testing
@testable import Backtest

/// What the backtest's faster paths must keep: the report's curves keep every extreme, the
/// CSV files quote what needs quoting, and a flat account's cash kept between fills still moves
/// with a fill and with a rate.
@Suite("Backtest: the fast paths keep what they must")
struct SpeedPathTests {
    @Test("a thinned curve keeps each bucket's lowest and highest, in time order, and the whole curve's extremes")
    func thinKeepsExtremes() {
        // A seeded walk with spikes: 100,003 points into at most 2,000.
        var state: UInt64 = 42
        var value = 100.0
        let points: [(Int64, Double)] = (0..<100_003).map { index in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            value += Double(Int64(state >> 40) % 201 - 100) / 100
            return (Int64(index) * 60, index % 9_973 == 0 ? value * 3 : value)
        }
        let thinned = BacktestReport.thin(points.count, limit: 2_000) { points[$0] }
        #expect(thinned.count <= 2_004, "\(thinned.count) points")
        #expect(zip(thinned, thinned.dropFirst()).allSatisfy { $0.0 < $1.0 }, "in time order, each once")
        // It starts at the first point and ends at the last (the final equity), whatever they are.
        #expect(thinned.first! == points.first! && thinned.last! == points.last!)
        let kept = Set(thinned.map(\.0))
        #expect(kept.contains(points.min { $0.1 < $1.1 }!.0) && kept.contains(points.max { $0.1 < $1.1 }!.0))
        let bucket = (points.count + 999) / 1_000
        for start in stride(from: 0, to: points.count, by: bucket) {
            let slice = points[start..<min(start + bucket, points.count)]
            #expect(kept.contains(slice.min { $0.1 < $1.1 }!.0) && kept.contains(slice.max { $0.1 < $1.1 }!.0), "bucket at \(start)")
        }
        // Few points: all of them, as they are.
        let few = Array(points.prefix(10))
        #expect(BacktestReport.thin(few.count, limit: 2_000) { few[$0] }.map(\.0) == few.map(\.0))
    }

    @Test("fills.csv and trades.csv quote an instrument whose key holds a comma or a quote")
    func csvQuotesInstruments() {
        let fill = BacktestFill(orderId: 7, instrument: "A,\"B\"", time: 1_704_205_800, buy: true, quantity: 10, price: 101.25, commission: 1)
        let fills = String(decoding: BacktestReport.fillsCSV([fill]), as: UTF8.self)
        #expect(fills == "time,order_id,instrument,side,quantity,price,commission\n2024-01-02 14:30:00,7,\"A,\"\"B\"\"\",BUY,10,101.25,1.00\n")
        let trade = BacktestTrade(instrument: "A,\"B\"", direction: 1, quantity: 10, entryTime: 1_704_205_800, entryPrice: 101.25,
                                  exitTime: nil, exitPrice: nil, commission: 1, pnl: 2.5)
        let trades = String(decoding: BacktestReport.tradesCSV([trade]), as: UTF8.self)
        #expect(trades.hasSuffix("\n\"A,\"\"B\"\"\",long,10,2024-01-02 14:30:00,101.25,,,1.00,2.50\n"), "\(trades)")
    }

    @Test("a flat account's equity follows its cash in another currency: after the fills that leave it, and as the rate moves")
    func flatCashFollowsFillsAndRates() {
        var ledger = BacktestLedger(initialCash: 100_000, keys: ["7203"], terms: [InstrumentTerms(currency: "JPY")])
        ledger.setRate("JPY", toBase: 0.01)
        ledger.sample(at: 0)
        ledger.record(BacktestFill(orderId: 1, instrument: "7203", time: 60, buy: true, quantity: 100, price: 1_000, commission: 0), instrument: 0)
        ledger.record(BacktestFill(orderId: 2, instrument: "7203", time: 120, buy: false, quantity: 100, price: 1_100, commission: 0), instrument: 0)
        ledger.sample(at: 180)  // flat, 10,000 JPY of profit in cash
        ledger.setRate("JPY", toBase: 0.02)
        ledger.sample(at: 240)
        ledger.setRate("JPY", toBase: 0.02)  // the same rate again
        ledger.sample(at: 300)
        #expect(ledger.equity.map(\.equity) == [100_000, 100_100, 100_200, 100_200], "\(ledger.equity.map(\.equity))")
    }
}
