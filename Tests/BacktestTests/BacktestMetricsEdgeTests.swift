import Testing
@testable import Backtest

/// The metrics on starting cash of nothing, less than nothing or no number at all: returns and
/// drawdown fractions are "n/a" (nil), never a division by zero or by a near-zero peak.
@Suite("Backtest metrics at the edges")
struct BacktestMetricsEdgeTests {
    /// Up 19, then down 271: with 0 starting cash the old code printed a 1,426 % drawdown.
    static let equity = [EquityPoint(time: 1_704_205_800, equity: 19, invested: true),
                         EquityPoint(time: 1_704_205_860, equity: -252, invested: false)]

    static func metrics(cash: Double, equity: [EquityPoint] = equity) -> BacktestMetrics {
        BacktestMetrics.compute(initialCash: cash, equity: equity.map { EquityPoint(time: $0.time, equity: $0.equity + cash, invested: $0.invested) },
                                trades: [], commissions: 0, fills: 0, bars: equity.count, span: (1_704_205_800, 1_704_292_200))
    }

    @Test("no positive starting cash: no return, no drawdown fraction, no CAGR", arguments: [0.0, -1.0, -100_000.0, .nan, .infinity])
    func noBase(_ cash: Double) {
        let m = Self.metrics(cash: cash)
        #expect(m.totalReturn == nil)
        #expect(m.maxDrawdownFraction == nil)
        #expect(m.cagr == nil)
        #expect(BacktestReport.percent(m.maxDrawdownFraction) == "n/a")
    }

    @Test("money that no Int64 of cents holds is shown, not trapped on", arguments: [Double.nan, .infinity, -.infinity, 1e300, -9.3e16])
    func hugeMoney(_ value: Double) {
        #expect(!BacktestReport.money(value).isEmpty)
    }

    @Test("positive starting cash: the fractions as before")
    func withBase() {
        let m = Self.metrics(cash: 100_000)
        #expect(abs((m.totalReturn ?? 0) - -252.0 / 100_000) < 1e-12)
        #expect(m.maxDrawdown == 271)
        #expect(abs((m.maxDrawdownFraction ?? 0) - 271.0 / 100_019) < 1e-12)
    }

    @Test("a loss past the starting cash is a drawdown over 100 %, not a division by a near-zero peak")
    func lossPastZero() {
        let m = Self.metrics(cash: 100, equity: [EquityPoint(time: 1_704_205_800, equity: -250, invested: true)])
        #expect(m.maxDrawdownFraction == 2.5)
        #expect(m.totalReturn == -2.5)
        #expect(m.cagr == nil)
    }
}
