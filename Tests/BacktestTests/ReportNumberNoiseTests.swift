import Testing
@testable import Backtest

/// summary.json holds the figures without the sums' rounding: 3.60 made on 100,000 was written
/// `"netPnL" : 3.599999999991269` and `"finalEquity" : 100003.59999999999`.
@Suite("Backtest: summary.json figures without arithmetic noise")
struct ReportNumberNoiseTests {
    @Test("money to the millionth: the decimal meant, a genuine fraction of a cent kept, no -0")
    func amounts() {
        #expect(BacktestReport.amount(100_003.59999999999) == 100_003.6)
        #expect(BacktestReport.amount(3.599999999991269) == 3.6)
        #expect(BacktestReport.amount(1.6999999999970896) == 1.7)
        #expect(BacktestReport.amount(-0.004) == -0.004)
        #expect(BacktestReport.amount(0.0035) == 0.0035)
        #expect(BacktestReport.amount(-0.0000001).sign == .plus)
        // Past a billion: 15 significant digits, still no noise.
        #expect(BacktestReport.amount(1_234_567_890_123.4501) == 1_234_567_890_123.45)
        #expect(BacktestReport.amount(.infinity) == .infinity)
    }

    @Test("ratios to 10 significant digits")
    func figures() {
        #expect(BacktestReport.figure(3.599999999992498e-05) == 3.6e-05)
        #expect(BacktestReport.figure(0.3333333333333333) == 0.3333333333)
        #expect(BacktestReport.figureText(0.5) == "0.5")
        #expect(BacktestReport.figure(-1e-20).sign == .minus)
        #expect(BacktestReport.figure(.nan).isNaN)
    }

    @Test("the metrics written: money and ratios cleaned, counts and times as they are")
    func written() {
        let t0: Int64 = 1_704_205_800
        let equity = [EquityPoint(time: t0 + 60, equity: 100_000, invested: false),
                      EquityPoint(time: t0 + 120, equity: 100_000 + 7 * (101.1 - 100.3) - 2, invested: true)]
        let metrics = BacktestMetrics.compute(initialCash: 100_000, equity: equity, trades: [], commissions: 2, fills: 2, bars: 2,
                                              span: (t0, t0 + 86_400))
        #expect(metrics.netPnL != 3.6, "the sum carries noise (else this test proves nothing)")
        let written = BacktestReport.written(metrics)
        #expect(written.netPnL == 3.6 && written.finalEquity == 100_003.6)
        #expect(written.totalReturn == 3.6e-05)
        #expect(written.fills == 2 && written.barsProcessed == 2 && written.drawdownPeak == metrics.drawdownPeak)
    }
}
