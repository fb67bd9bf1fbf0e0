import Testing
@testable import Backtest

/// A closed trade is a win, a loss or even: within half a cent of zero (docs/backtest.md) it
/// is even, however the rounding noise of its prices and commissions fell. Before, a trade of
/// +0.000001 counted as a win and one of -0.004 (a flat round trip's commissions) as a loss,
/// and trades.csv printed the latter as "-0.00".
@Suite("Backtest: break-even trades counted apart, no -0 printed")
struct BreakEvenTradeTests {
    static let t0: Int64 = 1_704_205_800  // 2024-01-02 14:30 UTC

    static func trade(_ pnl: Double, closed: Bool = true) -> BacktestTrade {
        BacktestTrade(instrument: "AAPL", direction: 1, quantity: 100, entryTime: t0, entryPrice: 100.5, exitTime: closed ? t0 + 180 : nil,
                      exitPrice: closed ? 100.5 : nil, commission: 0.004, pnl: pnl)
    }

    static func metrics(_ trades: [BacktestTrade]) -> BacktestMetrics {
        BacktestMetrics.compute(initialCash: 100_000, equity: [EquityPoint(time: t0 + 60, equity: 100_000, invested: false)], trades: trades,
                                commissions: 0, fills: 0, bars: 1, span: (t0, t0 + 86_400))
    }

    @Test("the tolerance is half a cent, as docs/backtest.md states")
    func tolerance() {
        #expect(BacktestMetrics.breakEvenTolerance == 0.005)
    }

    @Test("+0.000001 and -0.004 are even; +0.006 a win, -0.006 a loss; the win rate counts wins over every closed trade")
    func counted() {
        let m = Self.metrics([Self.trade(0.000_001), Self.trade(-0.004), Self.trade(0.006), Self.trade(-0.006), Self.trade(0),
                              Self.trade(50, closed: false)])
        #expect(m.trades == 5 && m.openTrades == 1)
        #expect(m.wins == 1 && m.losses == 1 && m.evens == 3, "\(m.wins) won, \(m.losses) lost, \(m.evens) even")
        #expect(m.winRate == 0.2, "win rate \(String(describing: m.winRate)): 1 of 5, not 2 of 5 (+0.000001 a win)")
        // Profit factor over wins and losses only: 0.006 / 0.006, the evens' noise left out.
        #expect(m.profitFactor.map { abs($0 - 1) < 1e-9 } == true, "profit factor \(String(describing: m.profitFactor))")
    }

    @Test("trades.csv prints a PnL of -0.004 as 0.00, and nothing else as -0")
    func noNegativeZeroInCSV() {
        let csv = String(decoding: BacktestReport.tradesCSV([Self.trade(-0.004), Self.trade(-0.0)]), as: UTF8.self)
        let pnls = csv.split(separator: "\n").dropFirst().map { $0.split(separator: ",").last.map(String.init) ?? "" }
        #expect(pnls == ["0.00", "0.00"], "\(pnls)")
        let cells = csv.split(separator: "\n").flatMap { $0.split(separator: ",") }
        #expect(!cells.contains { $0.hasPrefix("-0") }, "\(csv)")
    }

    @Test("percentages and ratios that round to zero carry no sign; real signs stay")
    func fixed() {
        #expect(BacktestReport.percent(-0.000_000_04) == "0.00 %")
        #expect(BacktestReport.ratio(-0.001) == "0.00")
        #expect(BacktestReport.fixed(-0.0, 2) == "0.00")
        #expect(BacktestReport.fixed(-0.006, 2) == "-0.01")
        #expect(BacktestReport.percent(-0.5) == "-50.00 %")
        #expect(BacktestReport.money(-0.004) == "0.00")
    }

    @Test("prices print as their shortest decimal: 187.64, not 187.64000000000001")
    func shortestPrices() {
        let price = 18_764 * 0.01
        #expect("\(price)" == "187.64000000000001", "the noise this guards against")
        #expect(BacktestReport.number(price) == "187.64")
        #expect(BacktestReport.number(101) == "101" && BacktestReport.number(98.5) == "98.5" && BacktestReport.number(-0.0) == "0")
        #expect(BacktestReport.number(1.08345) == "1.08345")
    }
}
