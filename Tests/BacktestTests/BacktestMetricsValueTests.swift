import Testing
@testable import Backtest

/// The figures of docs/backtest.md ("The figures"), worked by hand on small equity curves and
/// trades and checked against `BacktestMetrics.compute`. Each expectation names the number a
/// plausible mistake would give instead (population variance, √365, every bar instead of each
/// day's last, Sortino over the losing days only, a drawdown of the daily closes, CAGR over the
/// equity's own times, open trades counted, a break-even trade counted as a win).
@Suite("Backtest metrics: the documented values, by hand")
struct BacktestMetricsValueTests {
    /// 2024-01-02 00:00 UTC; `day(n, at:)` is n days later at that many seconds past midnight.
    static let d0: Int64 = 1_704_153_600
    static func day(_ n: Int64, at seconds: Int64) -> Int64 { d0 + n * 86_400 + seconds }
    static let open: Int64 = 52_200  // 14:30
    static let close: Int64 = 72_000  // 20:00

    /// Four UTC days, two bars each, from 100,000 of cash:
    ///
    ///     day  14:30              20:00 (the day's last)   daily return
    ///     0    101,000 held       102,000 held             102,000 / 100,000 - 1 = +0.02
    ///     1    103,000 held (peak)  99,960 held            99,960 / 102,000 - 1  = -0.02
    ///     2     97,850 held (trough) 104,958 flat          104,958 / 99,960 - 1  = +0.05
    ///     3    103,000 flat       103,908.42 flat          103,908.42 / 104,958 - 1 = -0.01
    static let curve: [EquityPoint] = [
        EquityPoint(time: day(0, at: open), equity: 101_000, invested: true),
        EquityPoint(time: day(0, at: close), equity: 102_000, invested: true),
        EquityPoint(time: day(1, at: open), equity: 103_000, invested: true),
        EquityPoint(time: day(1, at: close), equity: 99_960, invested: true),
        EquityPoint(time: day(2, at: open), equity: 97_850, invested: true),
        EquityPoint(time: day(2, at: close), equity: 104_958, invested: false),
        EquityPoint(time: day(3, at: open), equity: 103_000, invested: false),
        EquityPoint(time: day(3, at: close), equity: 103_908.42, invested: false),
    ]

    static func compute(cash: Double = 100_000, _ equity: [EquityPoint], trades: [BacktestTrade] = [],
                        span: (start: Int64, end: Int64) = (d0, d0 + 4 * 86_400)) -> BacktestMetrics
    {
        BacktestMetrics.compute(initialCash: cash, equity: equity, trades: trades, commissions: 0, fills: 0, bars: equity.count, span: span)
    }

    static func close(_ actual: Double?, _ expected: Double, within tolerance: Double = 1e-9) -> Bool {
        guard let actual else { return false }
        return abs(actual - expected) <= tolerance * max(1, abs(expected))
    }

    @Test("Sharpe: mean / sample sd of the daily returns (+2 %, -2 %, +5 %, -1 %, the first against the starting cash) × √252 = √25.2")
    func sharpe() {
        // mean = 0.04 / 4 = 0.01; deviations +0.01, -0.03, +0.04, -0.02; squares sum 0.0030;
        // sample variance 0.0030 / 3 = 0.001: Sharpe = 0.01 / √0.001 × √252 = √(0.1 × 252) = √25.2 = 5.01996.
        // Population variance (/ 4) gives √33.6 = 5.797; √365 gives 6.042; the eight bars'
        // returns, or three days without the first against the cash, other numbers again.
        let m = Self.compute(Self.curve)
        #expect(Self.close(m.sharpe, 25.2.squareRoot()), "Sharpe \(String(describing: m.sharpe)), expected √25.2 = 5.01996")
    }

    @Test("Sortino: mean / root mean square of the negative days over all days × √252 = √201.6")
    func sortino() {
        // Downside: (0.02² + 0.01²) / 4 = 0.0005 / 4 = 0.000125 (the negative days, over all four
        // days): Sortino = 0.01 / √0.000125 × √252 = √(0.8 × 252) = √201.6 = 14.1986.
        // Over the two negative days only it is √100.8 = 10.04.
        let m = Self.compute(Self.curve)
        #expect(Self.close(m.sortino, 201.6.squareRoot()), "Sortino \(String(describing: m.sortino)), expected √201.6 = 14.1986")
    }

    @Test("max drawdown: the deepest fall of the per-bar equity, 103,000 → 97,850 = 5,150 (5 % of the peak), with both times")
    func maxDrawdown() {
        // Per bar, not per day: the daily closes alone fall 102,000 → 99,960 = 2,040 (2 %). The
        // later fall 104,958 → 103,000 = 1,958 is shallower and changes nothing.
        let m = Self.compute(Self.curve)
        #expect(m.maxDrawdown == 5_150, "drawdown \(m.maxDrawdown)")
        #expect(Self.close(m.maxDrawdownFraction, 0.05), "fraction \(String(describing: m.maxDrawdownFraction))")
        #expect(m.drawdownPeak == Self.day(1, at: Self.open), "the peak: day 1 at 14:30, got \(String(describing: m.drawdownPeak))")
        #expect(m.drawdownTrough == Self.day(2, at: Self.open), "the trough: day 2 at 14:30, got \(String(describing: m.drawdownTrough))")
    }

    @Test("max drawdown counts from the starting cash: 100,000 → 99,000 → 98,000 is 2,000 (2 %), not 1,000")
    func drawdownFromTheCash() {
        let equity = [EquityPoint(time: Self.day(0, at: Self.open), equity: 99_000, invested: true),
                      EquityPoint(time: Self.day(0, at: Self.close), equity: 98_000, invested: true),
                      EquityPoint(time: Self.day(1, at: Self.open), equity: 100_500, invested: false)]
        let m = Self.compute(equity)
        #expect(m.maxDrawdown == 2_000, "drawdown \(m.maxDrawdown)")
        #expect(Self.close(m.maxDrawdownFraction, 0.02), "fraction \(String(describing: m.maxDrawdownFraction))")
        #expect(m.drawdownTrough == Self.day(0, at: Self.close))
    }

    @Test("net PnL, return and exposure: 3,908.42, 3.90842 %, 5 of 8 bar times held = 62.5 %")
    func returnAndExposure() {
        let m = Self.compute(Self.curve)
        #expect(Self.close(m.netPnL, 3_908.42), "net PnL \(m.netPnL)")
        #expect(Self.close(m.totalReturn, 0.039_084_2), "return \(String(describing: m.totalReturn))")
        #expect(m.exposure == 0.625, "exposure \(m.exposure)")
        #expect(m.finalEquity == 103_908.42)
    }

    @Test("CAGR over the span given, in years of 365.25 days: 121,000 over 2 years is 10 %; 110,000 over half a year is 21 %")
    func cagr() {
        let year: Int64 = 31_557_600  // 365.25 × 86,400
        // The equity's own times lie inside the span (a day apart): a CAGR over them would be
        // (1.21)^(365.25) - 1, absurd; one over 365-day years is (1.21)^(365 / 730.5) - 1 = 9.99 %;
        // the simple 21 % / 2 = 10.5 %.
        let two = Self.compute([EquityPoint(time: Self.d0 + year / 2, equity: 100_000, invested: true),
                                EquityPoint(time: Self.d0 + year / 2 + 86_400, equity: 121_000, invested: false)],
                               span: (Self.d0, Self.d0 + 2 * year))
        #expect(Self.close(two.cagr, 0.10), "CAGR \(String(describing: two.cagr))")
        // (1.1)^(1 / 0.5) - 1 = 1.21 - 1.
        let half = Self.compute([EquityPoint(time: Self.d0 + 86_400, equity: 110_000, invested: false)], span: (Self.d0, Self.d0 + year / 2))
        #expect(Self.close(half.cagr, 0.21), "CAGR \(String(describing: half.cagr))")
    }

    static func trade(_ pnl: Double, closed: Bool = true) -> BacktestTrade {
        BacktestTrade(instrument: "AAPL", direction: 1, quantity: 100, entryTime: d0, entryPrice: 100, exitTime: closed ? d0 + 60 : nil,
                      exitPrice: closed ? 100 + pnl / 100 : nil, commission: 0, pnl: pnl)
    }

    @Test("win rate and profit factor over the closed trades: +300, -100, ±0, +200, -50 (and one open +1,000) give 2/6 and 500/150")
    func winRateAndProfitFactor() {
        // Six closed trades, two of them break even (0 and -0: neither a win nor a loss, but
        // closed): win rate 2 / 6 = 1/3 (counting the break-evens as wins: 4/6; leaving them
        // out of the count: 2/4). Profit factor: gross gains (300 + 200) / gross losses
        // (100 + 50) = 10/3. The open trade (+1,000, marked) counts in neither: with it 3/7 and 1,500/150.
        let trades = [Self.trade(300), Self.trade(-100), Self.trade(0), Self.trade(-0.0), Self.trade(200), Self.trade(-50),
                      Self.trade(1_000, closed: false)]
        let m = Self.compute(Self.curve, trades: trades)
        #expect(m.trades == 6 && m.openTrades == 1, "\(m.trades) closed, \(m.openTrades) open")
        #expect(Self.close(m.winRate, 1.0 / 3), "win rate \(String(describing: m.winRate))")
        #expect(Self.close(m.profitFactor, 10.0 / 3), "profit factor \(String(describing: m.profitFactor))")
    }

    @Test("no losing trade: profit factor n/a (no gross loss to divide by), win rate 100 %; only break-evens: 0 % and n/a")
    func profitFactorWithoutLosses() {
        let winners = Self.compute(Self.curve, trades: [Self.trade(300), Self.trade(200)])
        #expect(winners.profitFactor == nil, "\(String(describing: winners.profitFactor))")
        #expect(winners.winRate == 1)
        let flat = Self.compute(Self.curve, trades: [Self.trade(0), Self.trade(-0.0)])
        #expect(flat.winRate == 0 && flat.profitFactor == nil, "\(String(describing: flat.winRate)) \(String(describing: flat.profitFactor))")
        let none = Self.compute(Self.curve, trades: [Self.trade(500, closed: false)])
        #expect(none.winRate == nil && none.profitFactor == nil && none.trades == 0, "only an open trade: nothing to rate")
    }

    @Test("Sharpe and Sortino need two UTC days: many bars in one day give n/a (the bar closing at midnight included); a bar past midnight makes a second day")
    func twoDays() {
        // 00:01 to 23:59 UTC of one day, moving up and down: one daily return.
        let oneDay = [EquityPoint(time: Self.d0 + 60, equity: 101_000, invested: true),
                      EquityPoint(time: Self.d0 + 43_200, equity: 97_000, invested: true),
                      EquityPoint(time: Self.d0 + 86_340, equity: 102_000, invested: false)]
        let one = Self.compute(oneDay)
        #expect(one.sharpe == nil && one.sortino == nil, "\(String(describing: one.sharpe)) \(String(describing: one.sortino))")
        // A point is stamped at its bar's end: the bar ending at 00:00 UTC is the first day's last
        // (a one-day backtest of 1-minute bars ends there): still one day, still n/a.
        let closedAtMidnight = Self.compute(oneDay + [EquityPoint(time: Self.d0 + 86_400, equity: 102_000, invested: false)])
        #expect(closedAtMidnight.sharpe == nil && closedAtMidnight.sortino == nil, "\(String(describing: closedAtMidnight.sharpe))")
        // The bar ending 00:01 UTC the next day: a second day (+2 %, then 99,960 / 102,000 - 1 = -2 %).
        let twoDays = oneDay + [EquityPoint(time: Self.d0 + 86_460, equity: 99_960, invested: false)]
        let two = Self.compute(twoDays)
        // mean 0: Sharpe and Sortino 0 (a number, not n/a).
        #expect(Self.close(two.sharpe, 0, within: 1e-12) && Self.close(two.sortino, 0, within: 1e-12),
                "\(String(describing: two.sharpe)) \(String(describing: two.sortino))")
    }

    @Test("no losing day: Sortino n/a (no downside deviation to divide by), Sharpe still a number")
    func sortinoWithoutLosingDays() {
        // +1 %, +2 %: mean 0.015, sample sd √0.00005; Sharpe = 0.015 / √0.00005 × √252 = √1134.
        let equity = [EquityPoint(time: Self.day(0, at: Self.close), equity: 101_000, invested: true),
                      EquityPoint(time: Self.day(1, at: Self.close), equity: 103_020, invested: true)]
        let m = Self.compute(equity)
        #expect(m.sortino == nil, "\(String(describing: m.sortino))")
        #expect(Self.close(m.sharpe, 1_134.0.squareRoot(), within: 1e-6), "\(String(describing: m.sharpe))")
    }

    @Test("UTC days before 1970 (the CLI takes dates from 1900): 31 Dec 1969 and 1 Jan 1970 are two days")
    func daysBefore1970() {
        // 1969-12-31 20:00 UTC is -14,400; 1970-01-01 20:00 UTC is 72,000. Integer division
        // truncates toward zero (-14,400 / 86,400 = 0, as 72,000 / 86,400): the days must be
        // floored, or the two days read as one and Sharpe is n/a. Returns +1 %, -1 %: mean 0.
        let equity = [EquityPoint(time: -14_400, equity: 101_000, invested: true),
                      EquityPoint(time: 72_000, equity: 99_990, invested: false)]
        let m = Self.compute(equity, span: (-86_400, 86_400))
        #expect(Self.close(m.sharpe, 0, within: 1e-12), "two days, mean return 0: Sharpe 0, got \(String(describing: m.sharpe))")
    }
}
