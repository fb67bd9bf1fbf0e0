import Foundation
import MarketHistory
import StrategyHost
import TWSProtocol

/// What a backtest runs: the strategy file and its parameters, the bars, the span, the fill
/// rules, the money, and the same risk limits a live run has.
public struct BacktestSetup: Sendable {
    public var strategyPath: String
    public var strategyName: String?
    public var params: [String: String] = [:]
    public var barSize = "1 min"
    public var what = "TRADES"
    public var span: TimeSpan
    public var rules = FillRules()
    public var initialCash = 100_000.0
    /// Risk limits, strategy budgets and config params, as `moonwire run` would use them.
    public var host = HostConfig()

    public init(strategyPath: String, span: TimeSpan) {
        self.strategyPath = strategyPath
        self.span = span
    }

    public var name: String { strategyName ?? URL(fileURLWithPath: strategyPath).deletingPathExtension().lastPathComponent }
}

/// One instrument's bars for the backtest, in time order, loaded once (a parameter sweep
/// shares them).
public struct LoadedSeries: Sendable {
    public let resolved: ResolvedInstrument
    public let series: BarSeries
    public let barSeconds: Int
    public let bars: [StoredBar]
    /// The span the bars were read for (history before it comes from the store).
    public let loaded: TimeSpan
    /// The instrument's tick (slippage is counted in it); nil: the fill rules' own.
    public let tickSize: Double?
    /// Parts of the backtest's span the store has never covered (nothing was downloaded there).
    public let gaps: [TimeSpan]

    public var key: String { resolved.key }

    public init(resolved: ResolvedInstrument, series: BarSeries, barSeconds: Int, bars: [StoredBar], loaded: TimeSpan,
                tickSize: Double?, gaps: [TimeSpan])
    {
        self.resolved = resolved
        self.series = series
        self.barSeconds = barSeconds
        self.bars = bars
        self.loaded = loaded
        self.tickSize = tickSize
        self.gaps = gaps
    }

    /// The bars starting in `span` (binary search: the bars are sorted).
    func bars(in span: TimeSpan) -> [StoredBar] {
        func firstIndex(atOrAfter time: Int64) -> Int {
            var low = 0, high = bars.count
            while low < high {
                let middle = (low + high) / 2
                if bars[middle].time < time { low = middle + 1 } else { high = middle }
            }
            return low
        }
        return Array(bars[firstIndex(atOrAfter: span.start)..<firstIndex(atOrAfter: span.end)])
    }
}

public struct BacktestDataError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The bars of every instrument, and the store for whatever else `market.history` asks for.
public struct BacktestData: Sendable {
    public let setup: BacktestSetup
    public let series: [LoadedSeries]
    public let store: (any BarStore)?

    public init(setup: BacktestSetup, series: [LoadedSeries], store: (any BarStore)?) {
        self.setup = setup
        self.series = series
        self.store = store
    }

    /// Reads the bars of `instruments` over the setup's span from `store`; the gaps are what
    /// the store never covered there.
    public static func load(setup: BacktestSetup, instruments: [ResolvedInstrument], tickSizes: [String: Double] = [:],
                            store: any BarStore) async throws -> BacktestData
    {
        guard let barSeconds = HistoricalSpan.barSeconds(setup.barSize, strict: false) else {
            throw BacktestDataError("'\(setup.barSize)' is not a bar size (\"1 min\", \"5 mins\", \"1 hour\", \"1 day\")")
        }
        guard !setup.span.isEmpty else { throw BacktestDataError("the backtest's span is empty (--from must come before --to)") }
        var loaded: [LoadedSeries] = []
        for instrument in instruments {
            let series = BarSeries(instrument: instrument.key, barSize: setup.barSize, what: setup.what)
            let bars = try await store.bars(series, in: setup.span)
            let gaps = TimeSpan.missing(setup.span, covered: try await store.covered(series))
            loaded.append(LoadedSeries(resolved: instrument, series: series, barSeconds: barSeconds, bars: bars, loaded: setup.span,
                                       tickSize: tickSizes[instrument.key] ?? (instrument.details.minTick > 0 ? instrument.details.minTick : nil),
                                       gaps: gaps))
        }
        return BacktestData(setup: setup, series: loaded, store: store)
    }

    public var barCount: Int { series.reduce(0) { $0 + $1.bars.count } }
}
