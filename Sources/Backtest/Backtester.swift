import Foundation
import Logging
import MarketHistory
import NIOCore
import StrategyHost
import TWSClient
import TWSProtocol

/// What a backtest came to.
public struct BacktestResult: Sendable {
    public var params: [String: String]
    public var metrics: BacktestMetrics
    public var trades: [BacktestTrade]
    public var fills: [BacktestFill]
    public var equity: [EquityPoint]
    public var statistics: StrategyStatistics
    /// What the user should know about how the strategy met the data (a bar size it asked
    /// for that the data does not have, an instrument it subscribed to that is not loaded).
    public var notices: [String]
    /// Errors, refusals and halts the strategy met (the first thousand), and how many there were.
    public var journal: [String]
    public var journalCount: Int
    public var ordersRejected: Int
    /// Bars that reached both the stop and another exit of one bracket or OCA group inside
    /// their range: the stop was assumed first (docs/backtest.md), as the notices say.
    public var ambiguousExits = 0
    /// Positions held at the end (marked at the last close in the equity, not closed).
    public var openPositions: [String: Double]
    /// Cash per currency at the end (a forex round trip can leave a balance in the quote
    /// currency: counted in base at the last rate).
    public var cashByCurrency: [String: Double] = [:]
    /// Stopped before the last bar (Ctrl-C).
    public var interrupted: Bool
    /// The strategy's `store` at the end, as JSON (a backtest never touches the journal's).
    public var finalStore: Data?

    /// The first handler failure's first line (`on_bar: file.lua:3: message`), nil when none.
    public var firstFailure: String? = nil

    /// A streamed run's data with every bar it read (its report's charts need them); nil when
    /// the data it was given held them all.
    public var streamedData: BacktestData? = nil

    /// Why the figures are not the strategy's, nil when they are: it was paused (`pausedReason`),
    /// or its on_start failed, so what it sets up there may not be (a strategy that subscribes
    /// there runs over no bars at all and looks like one that never traded).
    public var noResultReason: String? {
        if let paused = pausedReason { return "the strategy was \(paused)" }
        guard statistics.startFailed else { return nil }
        return "its on_start failed" + (firstFailure.map { " (\($0))" } ?? "")
    }

    /// Why the figures are not the strategy's: its handlers failed until it was paused (nil
    /// when it was not), with the first failure.
    public var pausedReason: String? {
        guard statistics.paused else { return nil }
        return "paused after \(statistics.handlerFailures) failing handler run\(statistics.handlerFailures == 1 ? "" : "s")"
            + (firstFailure.map { " (the first: \($0))" } ?? "")
    }
}

/// Runs a strategy file over stored bars with the host's own code: the same `Strategy`, Lua
/// API, risk gate and handlers as `moonwire run`, on a simulated clock.
///
/// For every bar time, in order: the clock moves to the bar's start (timers due by then fire),
/// the working orders meet the bars that open (fills, told as on_fill / on_order), the clock
/// moves to the bar's end, then on_bar (and on_quote, when the strategy asked for quotes) for
/// each instrument in the order given. An order placed while a bar is handled meets the next
/// bar (the fill rules). While a handler waits in a host call (`market.history`), the clock
/// stands still: host calls take no simulated time. The same inputs give the same trades.
public enum Backtester {
    /// Bars handled per hop onto the strategy's loop, at most: a batch also ends after about
    /// 50 ms (`BacktestDriver.step`), at a wait for the host, and where the bars read so far end.
    static let batch = 65_536

    /// `equity`: where the equity points go as the bars are handled (equity.csv written while
    /// the run goes on); the result holds them all too. `progress`: the bars handled, and how
    /// far through the data's time they are (0 to 1).
    ///
    /// Data with a feed (`BacktestData.load(streaming:)`) is run as its bars arrive; the
    /// result's `data` then holds every bar read, for the report.
    public static func run(_ data: BacktestData, params: [String: String] = [:], loop: EventLoop,
                           logger: Logger = Logger(label: "backtest"), equity: EquityCSVFile? = nil,
                           progress: (@Sendable (_ done: Int, _ fraction: Double) -> Void)? = nil) async throws -> BacktestResult
    {
        let setup = data.setup
        let services = BacktestServices(data: data, strategy: setup.name, accountLimits: setup.host.accountRisk)
        let strategy = try await Strategy.make(path: setup.strategyPath, name: setup.name, loop: loop, services: services,
                                               config: setup.host, params: setup.params.merging(params) { $1 }, logger: logger)
        let driver = BacktestDriver(data: data, services: services, strategy: strategy)
        services.useBars { [weak driver] index in
            guard let driver else { return ([], true) }
            return (try? await loop.submit { (driver.bars[index], driver.allBarsRead) }.get()) ?? ([], true)
        }
        // The rest of a streamed instrument's bars, read beside the run (stopped with it).
        let reader = data.series.lazy.compactMap(\.feed).first.map(BarFeed.Reader.init)
        try await loop.submit { driver.begin() }.get()
        await driver.settle()
        var interrupted = false
        while true {
            if Task.isCancelled {
                interrupted = true
                break
            }
            let streams = equity != nil
            let (finished, points, hungry, waiting) = try await loop.submit {
                (driver.step(limit: batch), streams ? driver.takeEquity() : [], driver.needsBars, strategy.isWaiting || services.hasPending)
            }.get()
            equity?.append(points)
            // equity.csv can no longer be written (a full disk): the report could not be whole.
            if let failure = equity?.failureSoFar { throw failure }
            // Only a handler that waits for the host has anything to settle (two hops to the
            // loop and back, per batch, otherwise).
            if waiting { await driver.settle() }
            progress?(driver.position, driver.fractionDone)
            if finished { break }
            if hungry, let reader {
                let part = try await reader.next()
                try await loop.submit { driver.take(part) }.get()
            }
        }
        // Every row handed over written: an error in the last batch is this run's too.
        if let failure = equity?.failure { throw failure }
        let statistics = await strategy.stop()
        let stoppedEarly = interrupted
        return try await loop.submit { driver.result(params: params, statistics: statistics, interrupted: stoppedEarly) }.get()
    }
}

/// One backtest's walk over the bars (on the strategy's loop).
final class BacktestDriver: @unchecked Sendable {
    let data: BacktestData
    let services: BacktestServices
    let strategy: Strategy
    let clock: SimulatedClock
    /// Every bar of several instruments in time order (instruments in the order given at a
    /// tie); nil for one instrument, whose bars are the order.
    private let merged: [(series: Int32, bar: Int32)]?
    /// How many bars (entries of the order) are read so far: all of them unless one
    /// instrument's arrive as the run goes (`take`).
    @exclusivity(unchecked) private(set) var entryCount: Int
    /// How many of them can be handled now: a bar is handled once the bar after it is read (or
    /// there is none), since its handling looks at the next bar's time.
    @exclusivity(unchecked) private var ready: Int
    /// Whether every bar is read.
    @exclusivity(unchecked) private var allRead: Bool
    /// Bars a feed left out as unusable (its first part's with them), said at the end.
    private var refused: [(time: Int64, reason: String)] = []
    // The walk's state is read and written per bar, only by the driver's own methods on the
    // strategy's loop, each access a plain read or assignment that calls out to nothing that
    // could reach it again: no two accesses can overlap, so the runtime's check of that
    // (a quarter of the per-bar cost of a strategy with a trivial on_bar) is left out.
    @exclusivity(unchecked) private(set) var position = 0
    @exclusivity(unchecked) private var openedTime: Int64?
    @exclusivity(unchecked) private var day: Int64?
    @exclusivity(unchecked) private var barsDelivered = 0
    private var notices: [String] = []
    private var noticed: Set<String> = []
    /// What each instrument's bars become for the strategy, rebuilt when it subscribes.
    @exclusivity(unchecked) private var plans: [SeriesPlan] = []
    @exclusivity(unchecked) private var plannedVersion = -1
    private var quoteHandler = false
    /// Each instrument's latest bar (what market.quote answers from).
    private let latest: LatestBars

    struct SeriesPlan {
        var asIs = false
        var quotes = false
        /// Bars of larger sizes built from the data's bars, the way a live run builds them.
        var aggregates: [BarAggregator] = []
    }

    // The series taken apart once: the per-bar path reads these arrays and never copies a
    // `LoadedSeries` (a struct of many references). A streamed instrument's bars grow as they
    // are read (`take`, between batches: never while a bar is handled).
    @exclusivity(unchecked) private(set) var bars: [[StoredBar]]
    let keys: [String]
    let sizes: [String]
    let seconds: [Int64]

    init(data: BacktestData, services: BacktestServices, strategy: Strategy) {
        self.data = data
        self.services = services
        self.strategy = strategy
        clock = SimulatedClock(startingAt: Double(data.setup.span.start))
        merged = data.series.count == 1 ? nil : Self.merge(data.series)
        var bars = data.series.map(\.bars)
        if let feed = data.series.first?.feed, let first = bars[0].first {
            // Room for all of them at once by the feed's reckoning (room never written to is never resident).
            bars[0].reserveCapacity(BacktestData.expectedCount(from: first.time, to: feed.lastTime, barSeconds: data.series[0].barSeconds))
            refused = feed.refusedBefore
        }
        self.bars = bars
        keys = data.series.map(\.key)
        sizes = data.series.map(\.series.barSize)
        seconds = data.series.map { Int64($0.barSeconds) }
        latest = LatestBars(keys: keys, seconds: seconds)
        entryCount = merged?.count ?? bars.first?.count ?? 0
        allRead = !data.streams
        ready = 0
        ready = handleable()
    }

    /// The entry of the order at `position`.
    @inline(__always)
    private func entry(_ position: Int) -> (series: Int32, bar: Int32) { merged?[position] ?? (0, Int32(truncatingIfNeeded: position)) }

    /// Whether the run waits for bars still to be read.
    var needsBars: Bool { !allRead && position >= ready }

    /// Whether every bar is read.
    var allBarsRead: Bool { allRead }

    /// How far through the data's time the bars handled are (0 to 1).
    var fractionDone: Double {
        guard position > 0, entryCount > 0 else { return 0 }
        let first = Double(bar(entry(0)).time), now = Double(bar(entry(position - 1)).time)
        let last = data.series.first?.feed.map { Double($0.lastTime) } ?? Double(bar(entry(entryCount - 1)).time)
        return last > first ? min(max((now - first) / (last - first), 0), 1) : 1
    }

    /// Bars a feed read (nil: it has no more), added to the streamed instrument's.
    func take(_ part: BarFeed.Part?) {
        if let part {
            bars[0].append(contentsOf: part.bars)
            refused += part.refused
            entryCount = bars[0].count
        }
        if part?.rest == nil { allRead = true }
        ready = handleable()
    }

    /// The bars that can be handled: all when all are read; else up to the last time read,
    /// whose bars (and the next) may not all be here yet.
    private func handleable() -> Int {
        guard !allRead, entryCount > 0 else { return entryCount }
        var end = entryCount - 1
        let last = bar(entry(end)).time
        while end > 0 && bar(entry(end - 1)).time == last { end -= 1 }
        return end
    }

    static func merge(_ series: [LoadedSeries]) -> [(series: Int32, bar: Int32)] {
        var timeline: [(series: Int32, bar: Int32)] = []
        timeline.reserveCapacity(series.reduce(0) { $0 + $1.bars.count })
        var next = [Int](repeating: 0, count: series.count)
        while true {
            var best = -1
            for index in series.indices where next[index] < series[index].bars.count {
                if best < 0 || series[index].bars[next[index]].time < series[best].bars[next[best]].time { best = index }
            }
            guard best >= 0 else { break }
            timeline.append((Int32(best), Int32(next[best])))
            next[best] += 1
        }
        return timeline
    }

    func begin() {
        // The closures hold the latest bars, not the driver (no reference back to it, no
        // `unowned` count at every mark).
        let latest = latest
        strategy.useSimulatedClock(clock, quotes: { key in latest.quote(key) }, marks: { key in latest.mark(key) })
        services.setNow(data.setup.span.start)
        services.clock = clock
        quoteHandler = strategy.definesQuoteHandler
        // on_start first, as in a live run (whose account values are held until it ran); the
        // account's opening values after it.
        strategy.deliverNow(.start)
        for event in services.accountEvents() { strategy.deliverNow(event) }
        services.flush(into: strategy)
    }

    /// Waits while a handler waits for the host, then delivers what its answer led to.
    func settle() async {
        while true {
            await strategy.settle()
            let more = try? await strategy.loop.submit { () -> Bool in
                self.services.flush(into: self.strategy)
                return self.strategy.isWaiting
            }.get()
            if more != true { return }
        }
    }

    private func bar(_ entry: (series: Int32, bar: Int32)) -> StoredBar { bars[Int(entry.series)][Int(entry.bar)] }

    /// The equity points sampled since the last call.
    func takeEquity() -> [EquityPoint] {
        let all = services.ledger.equity
        defer { equityTaken = all.count }
        return equityTaken < all.count ? Array(all[equityTaken...]) : []
    }
    private var equityTaken = 0

    /// Handles up to `limit` bars; true when every bar is done. Stops early when a handler
    /// waits for the host (the caller settles it, then calls again).
    func step(limit: Int) -> Bool {
        var handled = 0
        let count = ready
        // A batch also ends after ~50 ms, so Ctrl-C and the progress line stay prompt with a
        // slow strategy.
        let started = DispatchTime.now().uptimeNanoseconds
        while position < count && handled < limit {
            if handled & 15 == 15 && DispatchTime.now().uptimeNanoseconds - started > 50_000_000 { break }
            let item = entry(position)
            let index = Int(item.series)
            let bar = bars[index][Int(item.bar)]
            if openedTime != bar.time {
                openBarTime(bar.time, from: position)
                if strategy.isWaiting { return false }
            }
            deliver(bar, of: index, at: Int(item.bar))
            if services.hasPending { services.flush(into: strategy) }
            position += 1
            handled += 1
            if position == entryCount || self.bar(entry(position)).time != bar.time {
                services.sample(at: bar.time + seconds[index])
            }
            if strategy.isWaiting { return false }
        }
        return allRead && position >= count
    }

    /// A new bar time: timers up to its start, the working orders meet its bars, the clock
    /// moves to its end and every instrument's close is known.
    private func openBarTime(_ time: Int64, from start: Int) {
        openedTime = time
        let today = BacktestMetrics.utcDay(time)
        if let day, day != today { strategy.beginSimulatedDay() }
        day = today
        strategy.advanceClock(to: Double(time))
        if services.hasPending { services.flush(into: strategy) }
        // Fills at the open count in base at the rates known then (the last closes before it).
        for rate in data.rates {
            if let value = rate.rate(at: time - 1) ?? rate.rate(at: time) { services.setRate(rate.currency, toBase: value) }
        }
        var index = start
        while index < entryCount, bar(entry(index)).time == time {
            let item = entry(index)
            services.open(Int(item.series), bar(item))
            index += 1
        }
        if services.hasPending { services.flush(into: strategy) }
        let end = time + seconds[Int(entry(start).series)]
        strategy.advanceClock(to: Double(end))
        services.setNow(end)
        if services.hasPending { services.flush(into: strategy) }
        // The equity after the bar counts in base at the rates of its closes.
        for rate in data.rates { if let value = rate.rate(at: time) { services.setRate(rate.currency, toBase: value) } }
        // Every instrument's close at `time` is known from here (market.quote, the marks), and
        // the daily loss limit marks what is held by all of them at once: marked as each bar was
        // delivered, a hedge was valued with one leg's new close and the other's old one, and
        // halted on a loss it never had.
        index = start
        var held = false
        while index < entryCount, bar(entry(index)).time == time {
            let item = entry(index)
            let series = Int(item.series), stored = bar(item)
            services.mark(series, stored.close)
            latest.bars[series] = stored
            held = held || services.holds(series)
            index += 1
        }
        if held { strategy.markPositionsNow() }
    }


    private func deliver(_ bar: StoredBar, of index: Int, at barIndex: Int) {
        if services.subscriptionVersion != plannedVersion { replan() }
        let key = keys[index]
        let asIs = plans[index].asIs
        // A quote is made only for on_quote; market.quote and the marks of the daily loss limit
        // read the latest bars (`openBarTime`).
        if plans[index].quotes { strategy.deliverNow(.quote(latest.quote(bar, of: index))) }
        if asIs {
            barsDelivered += 1
            strategy.deliverBarNow(symbol: key, size: sizes[index], time: bar.time, open: bar.open, high: bar.high, low: bar.low,
                                   close: bar.close, volume: bar.volume, wap: bar.wap, count: bar.count)
        }
        if !plans[index].aggregates.isEmpty { aggregate(bar, index: index, at: barIndex) }
    }

    /// The larger bars this bar finishes. The data's next bar tells whether this one ends a
    /// slice (the last minute of a day, the last day of a week), as the calendar tells a live
    /// run: a bar is finished with its last part, not one bar late.
    private func aggregate(_ bar: StoredBar, index: Int, at barIndex: Int) {
        let series = bars[index]
        let next: Int64?? = .some(barIndex + 1 < series.count ? series[barIndex + 1].time : nil)
        let part = BuiltBar(time: bar.time, open: bar.open, high: bar.high, low: bar.low, close: bar.close, volume: bar.volume,
                            wap: bar.wap, count: bar.count)
        for slot in plans[index].aggregates.indices {
            for built in plans[index].aggregates[slot].add(part, seconds: seconds[index], next: next) {
                emit(StoredBar(time: built.time, open: built.open, high: built.high, low: built.low, close: built.close,
                               volume: built.volume, wap: built.wap, count: built.count),
                     size: plans[index].aggregates[slot].size, key: keys[index])
            }
        }
    }

    private func emit(_ bar: StoredBar, size: String, key: String) {
        barsDelivered += 1
        strategy.deliverBarNow(symbol: key, size: size, time: bar.time, open: bar.open, high: bar.high, low: bar.low, close: bar.close,
                               volume: bar.volume, wap: bar.wap, count: bar.count)
        services.flush(into: strategy)
    }

    /// What each instrument's bars become, from what the strategy subscribed to: bars of the
    /// data's size as they are (also for a smaller size: they cannot be split, which the
    /// notices say), larger sizes built from them.
    private func replan() {
        plannedVersion = services.subscriptionVersion
        let existing = plans
        plans = data.series.enumerated().map { index, series in
            var plan = SeriesPlan()
            plan.quotes = quoteHandler && services.quoteSubscriptions.contains(series.key)
            for size in (services.barSubscriptions[series.key] ?? []).sorted() {
                let seconds = HistoricalSpan.barSeconds(size, strict: false) ?? series.barSeconds
                if let period = BarPeriod(size: size), seconds != series.barSeconds, period.canBeBuilt(fromBarsOf: series.barSeconds) {
                    let kept = existing.indices.contains(index) ? existing[index].aggregates.first { $0.size == size } : nil
                    // Days, weeks and months by the instrument's trading calendar (its time
                    // zone and regular session); UTC days, said, when none is known.
                    if period.isCalendar && !series.calendarKnown {
                        notice("\(series.key): \(size) bars are cut at UTC midnight: no time zone is stored for it "
                               + "(download its bars once, or import them with --time-zone and --session)")
                    }
                    plan.aggregates.append(kept ?? BarAggregator(size: size, period: period, calendar: series.calendar))
                } else {
                    plan.asIs = true
                    if seconds != series.barSeconds {
                        notice("\(series.key): the strategy asked for \(size) bars; the backtest has \(series.series.barSize) bars, "
                               + "so on_bar got those" + (seconds > series.barSeconds ? " (\(size) is not a multiple of \(series.series.barSize))" : ""))
                    }
                }
            }
            return plan
        }
        for key in services.unknownSubscriptions.sorted() {
            notice("the strategy subscribed to \(key), which is not among the backtest's instruments: it got nothing for it")
        }
    }

    private func notice(_ text: String) {
        if noticed.insert(text).inserted { notices.append(text) }
    }

    func result(params: [String: String], statistics: StrategyStatistics, interrupted: Bool) -> BacktestResult {
        let setup = data.setup
        let ledger = services.ledger
        if services.barSubscriptions.isEmpty && services.quoteSubscriptions.isEmpty && barsDelivered == 0 {
            notice("the strategy subscribed to none of the instruments (market.subscribe): it was given no bars")
        }
        for series in data.series where series.bars.isEmpty {
            notice("\(series.key): no stored \(series.series.barSize) \(series.series.what) bars from \(UTCTime.iso(setup.span.start, seconds: false)) "
                   + "to \(UTCTime.iso(setup.span.end, seconds: false))")
        }
        let unconverted = ledger.money.unconvertedCurrencies
        if !unconverted.isEmpty {
            notice("money in \(unconverted.joined(separator: ", ")) had no rate to \(setup.baseCurrency.uppercased()) and is left out of "
                   + "the figures (store bars of the pairs to count it)")
        }
        let ambiguous = services.ambiguousExits
        if ambiguous > 0 {
            notice("\(ambiguous) bar\(ambiguous == 1 ? "" : "s") reached both the stop and the take-profit of one bracket (or OCA group): "
                   + "the stop was assumed first (docs/backtest.md)")
        }
        // The figures are over the bars that ran: to the end of the last bar handled (an
        // interrupted run's CAGR is of the part it ran, not of the span asked for).
        if !refused.isEmpty, let notice = BacktestData.unusableNotice(keys[0], refused) { self.notice(notice) }
        let lastRun = interrupted || entryCount == 0 ? (position > 0 ? entry(position - 1) : nil) : entry(entryCount - 1)
        let end = lastRun.map { self.bar($0).time + seconds[Int($0.series)] } ?? (interrupted ? setup.span.start : setup.span.end)
        let trades = ledger.tradesMarked
        var metrics = BacktestMetrics.compute(initialCash: ledger.initialCash, equity: ledger.equity, trades: trades,
                                              commissions: ledger.commissions, fills: ledger.fills.count, bars: position,
                                              span: (setup.span.start, max(end, setup.span.start + 1)))
        metrics.interrupted = interrupted
        metrics.handlerFailures = statistics.handlerFailures
        metrics.paused = statistics.paused
        metrics.startFailed = statistics.startFailed
        return BacktestResult(params: params, metrics: metrics, trades: trades, fills: ledger.fills, equity: ledger.equity,
                              statistics: statistics, notices: notices,
                              journal: services.journalEntries.map { "\(UTCTime.iso($0.time)) \($0.kind): \($0.detail)" },
                              journalCount: services.journalCount, ordersRejected: services.rejected, ambiguousExits: ambiguous,
                              openPositions: ledger.positions, cashByCurrency: ledger.money.cash,
                              interrupted: interrupted, finalStore: services.lastStore,
                              firstFailure: services.journalEntries.first { $0.kind == "error" }.map { String($0.detail.prefix { $0 != "\n" }) },
                              streamedData: data.streams ? data.completed(with: bars) : nil)
    }
}

/// Each instrument's latest bar in a backtest, written by the driver as it goes, read by the
/// strategy's simulated quotes and marks (market.quote, the daily loss limit).
final class LatestBars {
    // Written by the driver's step and read by the handlers and checks it calls, all on the
    // strategy's loop, each access a plain read or assignment that calls out to nothing.
    @exclusivity(unchecked) var bars: [StoredBar?]
    let keys: [String]
    let seconds: [Int64]

    init(keys: [String], seconds: [Int64]) {
        self.keys = keys
        self.seconds = seconds
        bars = Array(repeating: nil, count: keys.count)
    }

    /// The latest bar of the instrument `key`, and its place among the series.
    private func latest(_ key: String) -> (index: Int, bar: StoredBar)? {
        guard let index = keys.firstIndex(of: key), let bar = bars[index] else { return nil }
        return (index, bar)
    }

    func quote(_ key: String) -> MarketQuote? { latest(key).map { quote($0.bar, of: $0.index) } }

    /// What a held position of `key` is marked at: what its quote's last would be.
    func mark(_ key: String) -> Double? { latest(key).map { Self.last($0.bar) } }

    /// A quote made from a bar: last, open, high, low and close are the bar's.
    func quote(_ bar: StoredBar, of index: Int) -> MarketQuote {
        var quote = MarketQuote(symbol: keys[index])
        quote.last = Self.last(bar)
        quote.open = bar.open
        quote.high = bar.high
        quote.low = bar.low
        quote.close = bar.close
        quote.volume = bar.volume
        quote.lastTime = bar.time + seconds[index]
        return quote
    }

    /// The last trade a bar's quote says: its close. The daily loss limit marks by it too.
    private static func last(_ bar: StoredBar) -> Double { bar.close }
}
