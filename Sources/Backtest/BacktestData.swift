import Foundation
import MarketHistory
import Money
import StrategyHost
import TWSProtocol
import TradingState

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
    /// The currency money is counted in (three letters, upper case); an instrument quoted in
    /// another needs stored bars of the pair (`BacktestData.rates`).
    public var baseCurrency = "USD"
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
    /// Its trading days (time zone and regular session, from TWS or the store): day, week and
    /// month bars built from smaller ones are cut by it. UTC days when no time zone is known.
    public let calendar: TradingCalendar
    /// Whether `calendar` is the instrument's own (a time zone is known), not UTC's by default.
    public let calendarKnown: Bool
    /// The bars still to read when the run starts (nil: `bars` are all of them): the first of
    /// them are loaded, the rest arrive while the backtest runs (`BacktestData.load`).
    public let feed: BarFeed?

    public var key: String { resolved.key }

    /// What money one unit of it moves: its sec type, currency (USD when TWS or the store gave
    /// none), multiplier, and a forex pair's base.
    public var terms: InstrumentTerms { resolved.contract.terms }

    public init(resolved: ResolvedInstrument, series: BarSeries, barSeconds: Int, bars: [StoredBar], loaded: TimeSpan,
                tickSize: Double?, gaps: [TimeSpan], feed: BarFeed? = nil)
    {
        self.resolved = resolved
        self.series = series
        self.barSeconds = barSeconds
        self.bars = bars
        self.loaded = loaded
        self.tickSize = tickSize
        self.gaps = gaps
        self.feed = feed
        calendarKnown = !resolved.details.timeZoneId.isEmpty
        calendar = Self.calendar(of: resolved)
    }

    /// The same series with every bar the run read (its feed's too), for the report.
    func completed(with all: [StoredBar]) -> LoadedSeries {
        LoadedSeries(resolved: resolved, series: series, barSeconds: barSeconds, bars: all, loaded: loaded, tickSize: tickSize, gaps: gaps)
    }

    /// An instrument's trading days as a backtest takes them: from its details (TWS's, or the
    /// store's) when they name a time zone, else UTC's calendar days.
    static func calendar(of instrument: ResolvedInstrument) -> TradingCalendar {
        instrument.details.timeZoneId.isEmpty ? .utc : TradingCalendar(details: instrument.details)
    }

    /// The bars of `bars` (sorted by time) starting in `span`, by binary search.
    static func bars(_ bars: [StoredBar], in span: TimeSpan) -> [StoredBar] {
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
    /// For every currency an instrument is quoted in other than `setup.baseCurrency`, its
    /// rates in base over the span (from stored bars of the pair), sorted by currency.
    public let rates: [RateSeries]
    /// What the backtest assumed and the user should know (details not stored, ...), for the
    /// summary.
    public let notices: [String]

    public init(setup: BacktestSetup, series: [LoadedSeries], store: (any BarStore)?, rates: [RateSeries] = [], notices: [String] = []) {
        self.setup = setup
        self.series = series
        self.store = store
        self.rates = rates
        self.notices = notices
    }

    /// The rates of `currency` in base; nil for the base itself and for a currency no
    /// instrument is quoted in.
    public func rates(of currency: String) -> RateSeries? { rates.first { $0.currency == currency.uppercased() } }

    /// Reads the bars of `instruments` over the setup's span from `store`; the gaps are what
    /// the store never covered there. Every currency an instrument is quoted in other than the
    /// base gets its rates from stored bars of the pair; when they are not stored, this throws
    /// naming what to download (money in JPY is never counted as USD). `notices` go with the
    /// data to the summary.
    ///
    /// `streaming`: one instrument's bars are read as the run goes (its `feed`), the first few
    /// now; a run that is the only one over the data can start at once. Several instruments,
    /// and data a sweep shares, are read whole (nil).
    public static func load(setup: BacktestSetup, instruments: [ResolvedInstrument], tickSizes: [String: Double] = [:],
                            store: any BarStore, notices: [String] = [], streaming: BarFeed.Chunks? = nil) async throws -> BacktestData
    {
        guard let barSeconds = HistoricalSpan.barSeconds(setup.barSize, strict: false) else {
            throw BacktestDataError("'\(setup.barSize)' is not a bar size (\"1 min\", \"5 mins\", \"1 hour\", \"1 day\")")
        }
        guard !setup.span.isEmpty else { throw BacktestDataError("the backtest's span is empty (--from must come before --to)") }
        var loaded: [LoadedSeries] = []
        var notices = notices
        for instrument in instruments {
            let series = BarSeries(instrument: instrument.key, barSize: setup.barSize, what: setup.what)
            let covered = try await store.covered(series)
            let bars: [StoredBar], refused: [(time: Int64, reason: String)], feed: BarFeed?
            if let streaming, instruments.count == 1 {
                (bars, refused, feed) = try await firstPart(of: series, in: setup.span, covered: covered, store: store, chunks: streaming)
            } else {
                (bars, refused) = usable(try await store.bars(series, in: setup.span))
                feed = nil
            }
            // A feed carries the first part's refused bars: what the run reads after them is said with them.
            if feed == nil, let notice = unusableNotice(instrument.key, refused) { notices.append(notice) }
            let gaps = tradingGaps(TimeSpan.missing(setup.span, covered: covered), of: instrument, barSeconds: barSeconds)
            loaded.append(LoadedSeries(resolved: instrument, series: series, barSeconds: barSeconds, bars: bars, loaded: setup.span,
                                       tickSize: tickSizes[instrument.key] ?? (instrument.details.minTick > 0 ? instrument.details.minTick : nil),
                                       gaps: gaps, feed: feed))
        }
        let rates = try await loadRates(setup: setup, series: loaded, store: store)
        return BacktestData(setup: setup, series: loaded, store: store, rates: rates, notices: notices)
    }

    /// The bars a streamed run starts with (the first usable ones, read at once), the ones left
    /// out on the way, and the feed of the rest (nil when these were all).
    private static func firstPart(of series: BarSeries, in span: TimeSpan, covered: [TimeSpan], store: any BarStore,
                                  chunks: BarFeed.Chunks) async throws
        -> (bars: [StoredBar], refused: [(time: Int64, reason: String)], feed: BarFeed?)
    {
        var refused: [(time: Int64, reason: String)] = []
        var next: TimeSpan? = span
        while let remaining = next {
            let part = try await BarFeed.read(series, in: remaining, limit: chunks.first, from: store)
            refused += part.refused
            next = part.rest
            guard part.bars.isEmpty else {
                // Progress counts towards the end of what the store covers in the span.
                let lastTime = min(span.end, covered.map(\.end).max() ?? span.end)
                return (part.bars, refused, next.map { BarFeed(store: store, series: series, rest: $0, lastTime: lastTime, refusedBefore: refused,
                                                      chunk: chunks.chunk) })
            }
        }
        return ([], refused, nil)
    }

    /// Room for the bars from `first` to `last` one bar apart (data with nights and weekends
    /// fills less of it; room never written to is never resident), at most 2^21 bars (more
    /// grow as they come).
    static func expectedCount(from first: Int64, to last: Int64, barSeconds: Int) -> Int {
        let expected = (Double(last) - Double(first)) / Double(max(barSeconds, 1)) + 1
        return expected.isFinite && expected > 0 ? Int(min(expected, Double(1 << 21))) : 0
    }

    /// Equity points a run of this data samples, or about (a streamed one's bars are counted
    /// as they come): room made for them at the start.
    var expectedBarCount: Int {
        series.reduce(0) { total, series in
            guard let feed = series.feed, let first = series.bars.first else { return total + series.bars.count }
            return total + Self.expectedCount(from: first.time, to: feed.lastTime, barSeconds: series.barSeconds)
        }
    }

    /// What a backtest says of stored bars left out as unusable (nil: none were).
    static func unusableNotice(_ key: String, _ refused: [(time: Int64, reason: String)]) -> String? {
        guard let first = refused.first else { return nil }
        return "\(key): \(refused.count) stored bar\(refused.count == 1 ? "" : "s") left out as unusable "
            + "(the first at \(UTCTime.iso(first.time, seconds: false)): \(first.reason)): the replay skips them too"
    }

    /// The same data with every bar its run read (the feeds' too), for the report.
    func completed(with bars: [[StoredBar]]) -> BacktestData {
        guard streams else { return self }
        let series = zip(self.series, bars).map { $0.feed == nil ? $0 : $0.completed(with: $1) }
        return BacktestData(setup: setup, series: series, store: store, rates: rates, notices: notices)
    }

    /// Whether some of the bars are still to be read when the run starts.
    public var streams: Bool { series.contains { $0.feed != nil } }

    /// The gaps that can miss trading, trimmed to it: one over a weekend or a night (by the
    /// instrument's calendar) is left out, as a daily file ending on a Friday leaves no gap
    /// before Monday. Daily bars are dated in UTC days, so their gaps are weighed by those;
    /// so are an instrument's with no time zone known. Crypto trades every day: its gaps stay.
    public static func tradingGaps(_ gaps: [TimeSpan], of instrument: ResolvedInstrument, barSeconds: Int) -> [TimeSpan] {
        guard instrument.contract.secType.uppercased() != "CRYPTO" else { return gaps }
        let calendar = barSeconds >= 86400 ? TradingCalendar.utc : LoadedSeries.calendar(of: instrument)
        return gaps.compactMap { gap in calendar.tradingPart(from: gap.start, to: gap.end).map { TimeSpan($0.start, $0.end) } }
    }

    /// The bars a backtest can trade on, and the others with why (a price that is negative, not
    /// a number or absurd, a high below the close...): the same checks the replay applies.
    static func usable(_ bars: [StoredBar]) -> (bars: [StoredBar], refused: [(time: Int64, reason: String)]) {
        // Stored bars were checked when they were written: most often all pass, and the array
        // is kept as it is (a second copy of a million bars is 88 MB at the peak).
        func problem(_ bar: StoredBar) -> String? {
            let volume = bar.volume == BarBounds.notAvailable ? nil : bar.volume
            return BarBounds.problem(time: bar.time, open: bar.open, high: bar.high, low: bar.low, close: bar.close, volume: volume)
        }
        guard bars.contains(where: { problem($0) != nil }) else { return (bars, []) }
        var kept: [StoredBar] = []
        kept.reserveCapacity(bars.count)
        var refused: [(time: Int64, reason: String)] = []
        for bar in bars {
            if let reason = problem(bar) {
                refused.append((bar.time, reason))
            } else {
                kept.append(bar)
            }
        }
        return (kept, refused)
    }

    /// The rate series of every foreign currency of `series`, or an error naming the pair to
    /// download when one is not stored (or starts after the currency's first bar).
    static func loadRates(setup: BacktestSetup, series: [LoadedSeries], store: any BarStore) async throws -> [RateSeries] {
        let base = setup.baseCurrency.uppercased()
        var currencies = Set(series.map(\.terms.currency))
        // Forex commissions are charged in USD (docs/money.md): a backtest in another base needs
        // the dollar's rate too, or those commissions would count nothing.
        if series.contains(where: { $0.terms.secType == "CASH" }) && setup.rules.commission != .none { currencies.insert("USD") }
        let foreign = currencies.subtracting([base]).sorted()
        // The backtest's own kind of bars first (the pair may be one of its instruments), then
        // what forex is quoted as.
        var whats: [String] = []
        for what in [setup.what.uppercased(), "MIDPOINT", "TRADES"] where !whats.contains(what) { whats.append(what) }
        var rates: [RateSeries] = []
        for currency in foreign {
            let pair = "\(base).\(currency)"
            let download = "moonwire history \(pair) --bar \"\(setup.barSize)\" --what MIDPOINT --from \(UTCTime.day(setup.span.start)) "
                + "--to \(UTCTime.day(setup.span.end + 86_399))"
            let quoted = series.filter { $0.terms.currency == currency }
            let names = quoted.map(\.key).joined(separator: ", ")
            guard let rate = try await RateSeries.load(currency: currency, base: base, barSize: setup.barSize, whats: whats, span: setup.span,
                                                       store: store)
            else {
                let who = quoted.isEmpty ? "forex commissions are charged in \(currency)"
                    : "\(names) \(quoted.count == 1 ? "is" : "are") quoted in \(currency)"
                throw BacktestDataError("\(who), and the store has no \(setup.barSize) "
                                        + "bars of \(pair) or \(currency).\(base) to count \(currency) in \(base): download them "
                                        + "(\(download), with the same --store), import a CSV of them (moonwire history import FILE "
                                        + "--instrument \(pair) --bar \"\(setup.barSize)\" --what MIDPOINT), or give --base-currency \(currency)")
            }
            // A first bar without a rate would have no value in base: the rates must start by then.
            if let first = quoted.compactMap(\.bars.first?.time).min(), let start = rate.start, start > first {
                throw BacktestDataError("the stored \(rate.source) bars start at \(UTCTime.iso(start, seconds: false)), after the first "
                                        + "\(currency) bar (\(UTCTime.iso(first, seconds: false))): \(currency) has no rate in \(base) there; "
                                        + "download them from earlier (\(download))")
            }
            rates.append(rate)
        }
        return rates
    }

    /// An instrument as the store knows it, for a backtest that does not ask TWS: the key's
    /// contract with the stored sec type, currency, exchange and multiplier, and the stored
    /// tick as its minTick. Without stored details, a multiplier of 1 (100 for an option) and
    /// the fill rules' tick are assumed, and the notice says so. `multiplier` (the command
    /// line's) overrides what is stored.
    public static func storedInstrument(_ spec: InstrumentSpec, stored: StoredInstrument?, multiplier: Double? = nil,
                                        defaultTick: Double = FillRules().tickSize) -> (instrument: ResolvedInstrument, notice: String?)
    {
        var contract = spec.contract
        var details = ContractDetails()
        var notice: String?
        if let stored, stored.problem == nil {
            // The stored sec type where it names the same instrument (OPT/FOP, a continuous
            // future's FUT keeps CONTFUT: the key is what bars and orders are filed under).
            var typed = contract
            typed.secType = stored.secType
            if typed.instrumentKey == contract.instrumentKey { contract.secType = stored.secType }
            contract.currency = stored.currency
            if !stored.exchange.isEmpty { contract.exchange = stored.exchange }
            contract.multiplier = stored.multiplier == 1 ? "" : StoredInstrument.multiplierField(stored.multiplier)
            details.minTick = stored.tick
            details.tradingHours = stored.tradingHours
            details.liquidHours = stored.liquidHours
            details.timeZoneId = stored.timeZone
        } else {
            let size = contract.secType == "OPT" ? 100.0 : 1
            contract.multiplier = size == 1 ? "" : StoredInstrument.multiplierField(size)
            let why = stored?.problem.map { "the stored instrument details are unusable (\($0))" } ?? "no stored instrument details"
            let assumed = multiplier == nil ? "multiplier \(StoredInstrument.number(size)) and tick \(StoredInstrument.number(defaultTick)) assumed"
                : "tick \(StoredInstrument.number(defaultTick)) assumed"
            notice = "\(spec.key): \(why): \(assumed); import with --multiplier/--tick or download the bars once"
        }
        if let multiplier { contract.multiplier = StoredInstrument.multiplierField(multiplier) }
        details.contract = contract
        return (ResolvedInstrument(key: spec.key, contract: contract, details: details), notice)
    }

    public var barCount: Int { series.reduce(0) { $0 + $1.bars.count } }
}
