import Foundation

/// The figures a backtest is judged by, from its equity curve and round trips.
///
/// Sharpe and Sortino are annualized from daily returns (the equity at the last bar of each
/// UTC day, √252, no risk-free rate); they are nil with fewer than two days. Max drawdown is
/// the deepest fall from a peak of the per-bar equity, with the peak's and the trough's times.
/// Exposure is the share of bar times at which anything was held. The return and the
/// drawdown as a fraction are nil (shown "n/a") when the starting cash is not a positive,
/// finite amount: a fraction of nothing is no figure (it printed a drawdown of 104,904 %).
/// A closed trade is a win, a loss or even: even when its PnL (net of commissions, in the
/// base currency) is within `breakEvenTolerance` of zero, so rounding noise (+0.000001,
/// -0.004 of commission) is no win and no loss. The win rate is wins over all closed trades.
public struct BacktestMetrics: Sendable, Equatable, Codable {
    /// Half a cent of the base currency: a PnL that rounds to 0.00.
    public static let breakEvenTolerance = 0.005

    /// Stopped before the last bar (Ctrl-C): the figures are of the bars that ran. Always
    /// written (summary.json says `false` for a whole run); nil only in a file from before.
    public var interrupted: Bool?
    /// Handler runs that failed (a Lua error, the time budget, the memory cap), and whether
    /// they failed so many times in a row that the strategy was paused: its figures after that
    /// are of a strategy that did nothing. Always written; nil only in a file from before.
    public var handlerFailures: Int?
    public var paused: Bool?
    /// Whether its on_start failed (nil where no strategy ran: the figures alone).
    public var startFailed: Bool?
    public var initialCash: Double
    public var finalEquity: Double
    public var netPnL: Double
    public var totalReturn: Double?
    public var cagr: Double?
    public var sharpe: Double?
    public var sortino: Double?
    public var maxDrawdown: Double
    public var maxDrawdownFraction: Double?
    public var drawdownPeak: Int64?
    public var drawdownTrough: Int64?
    public var profitFactor: Double?
    public var winRate: Double?
    public var trades: Int
    /// The closed trades that made more than `breakEvenTolerance`, lost more, or neither.
    public var wins: Int
    public var losses: Int
    public var evens: Int
    public var openTrades: Int
    public var exposure: Double
    public var commissions: Double
    public var fills: Int
    public var barsProcessed: Int

    static func compute(initialCash: Double, equity: [EquityPoint], trades: [BacktestTrade], commissions: Double, fills: Int,
                        bars: Int, span: (start: Int64, end: Int64)) -> BacktestMetrics
    {
        let final = equity.last?.equity ?? initialCash
        // Fractions of the starting cash (and of peaks at or above it) mean something only
        // when it is a positive amount.
        let hasBase = initialCash.isFinite && initialCash > 0
        var metrics = BacktestMetrics(initialCash: initialCash, finalEquity: final, netPnL: final - initialCash,
                                      totalReturn: hasBase && final.isFinite ? final / initialCash - 1 : nil, cagr: nil, sharpe: nil,
                                      sortino: nil, maxDrawdown: 0, maxDrawdownFraction: hasBase ? 0 : nil, drawdownPeak: nil,
                                      drawdownTrough: nil, profitFactor: nil,
                                      winRate: nil, trades: 0, wins: 0, losses: 0, evens: 0, openTrades: 0, exposure: 0, commissions: commissions, fills: fills,
                                      barsProcessed: bars)
        let years = (Double(span.end) - Double(span.start)) / (365.25 * 86_400)  // no Int64 overflow on any span
        if years > 0, hasBase, final.isFinite, final > 0 {
            // Over a short span the power overflows (50 of cash making 500 in a day): no figure
            // rather than inf, which no report can hold.
            let cagr = pow(final / initialCash, 1 / years) - 1
            metrics.cagr = cagr.isFinite ? cagr : nil
        }

        // Drawdown over every bar's equity.
        var peak = initialCash, peakTime = equity.first?.time
        for point in equity {
            if point.equity > peak {
                peak = point.equity
                peakTime = point.time
            }
            let fall = peak - point.equity
            if fall > metrics.maxDrawdown {
                metrics.maxDrawdown = fall
                // The peak is at least the starting cash, so with a positive one this divides
                // by a positive amount; without one there is no fraction.
                metrics.maxDrawdownFraction = hasBase ? fall / peak : nil
                metrics.drawdownPeak = peakTime
                metrics.drawdownTrough = point.time
            }
        }

        // Daily returns: the last equity of each UTC day against the one before. An equity point
        // is stamped at its bar's end: the bar ending at midnight belongs to the day it closes
        // (a one-day backtest is one day, not two).
        var daily: [Double] = []
        var previous = initialCash
        for (index, point) in equity.enumerated() {
            let day = utcDay(point.time &- 1)
            let isLastOfDay = index == equity.count - 1 || utcDay(equity[index + 1].time &- 1) != day
            guard isLastOfDay else { continue }
            if previous > 0 { daily.append(point.equity / previous - 1) }
            previous = point.equity
        }
        if daily.count >= 2 {
            let mean = daily.reduce(0, +) / Double(daily.count)
            let variance = daily.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(daily.count - 1)
            if variance > 0 { metrics.sharpe = mean / variance.squareRoot() * 252.0.squareRoot() }
            let downside = daily.reduce(0) { $0 + min($1, 0) * min($1, 0) } / Double(daily.count)
            if downside > 0 { metrics.sortino = mean / downside.squareRoot() * 252.0.squareRoot() }
        }

        let closed = trades.filter { $0.exitTime != nil }
        metrics.trades = closed.count
        metrics.openTrades = trades.count - closed.count
        if !closed.isEmpty {
            let wins = closed.filter { $0.pnl > Self.breakEvenTolerance }
            let lost = closed.filter { $0.pnl < -Self.breakEvenTolerance }
            metrics.wins = wins.count
            metrics.losses = lost.count
            metrics.evens = closed.count - wins.count - lost.count
            metrics.winRate = Double(wins.count) / Double(closed.count)
            let gains = wins.reduce(0) { $0 + $1.pnl }
            let losses = -lost.reduce(0) { $0 + $1.pnl }
            metrics.profitFactor = losses > 0 ? gains / losses : nil
        }
        if !equity.isEmpty { metrics.exposure = Double(equity.filter(\.invested).count) / Double(equity.count) }
        // A ratio of extreme figures can overflow: a figure that is not a number is no figure.
        func finite(_ value: Double?) -> Double? { value.flatMap { $0.isFinite ? $0 : nil } }
        metrics.sharpe = finite(metrics.sharpe)
        metrics.sortino = finite(metrics.sortino)
        metrics.profitFactor = finite(metrics.profitFactor)
        metrics.totalReturn = finite(metrics.totalReturn)
        metrics.maxDrawdownFraction = finite(metrics.maxDrawdownFraction)
        return metrics
    }

    /// The UTC day of `time`, floored: before 1970 too (`/` truncates toward zero, which read
    /// 31 Dec 1969 and 1 Jan 1970 as one day). No overflow at any Int64.
    static func utcDay(_ time: Int64) -> Int64 { time >= 0 ? time / 86_400 : (time + 1) / 86_400 - 1 }
}
