import TWSProtocol

/// A bar in the host's units: what 5-second bars, stored bars and the bars built from them
/// all are while they are put together.
public struct BuiltBar: Sendable, Equatable {
    /// Start, epoch seconds (a day, week or month bar: its first date at 00:00 UTC, as IB
    /// dates daily bars and the bar store keeps them).
    public var time: Int64
    public var open, high, low, close: Double
    public var volume: Double?
    public var wap: Double?
    public var count: Int?

    public init(time: Int64, open: Double, high: Double, low: Double, close: Double, volume: Double? = nil, wap: Double? = nil, count: Int? = nil) {
        self.time = time
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
        self.wap = wap
        self.count = count
    }
}

/// Builds bars of one size from shorter ones, the one way live runs (from 5-second bars) and
/// backtests (from the stored bars) both do: fixed slices of seconds, or the trading calendar's
/// days, weeks and months (`BarPeriod`, `TradingCalendar`).
///
/// A bar is finished, and returned, as soon as it is known to be complete: when the bar that
/// ends its slice or its last session arrives; when a backtest's next bar lies outside it
/// (`add(_:seconds:next:)`); or, at the latest, when a bar of the next one arrives. Bars
/// outside every session, or after a day's close, belong to no day.
public struct BarAggregator: Sendable {
    public let size: String
    public let period: BarPeriod
    public private(set) var calendar: TradingCalendar
    /// Whether the calendar is the instrument's (`use`), not the UTC one it starts with.
    public private(set) var followsInstrument = false
    /// Live: the first calendar bar is left out unless its first session began after the
    /// subscription (a day bar from the middle of a session is not that day's bar: its open,
    /// high, low and volume would be wrong). A backtest's data begin where the bars begin.
    let dropsPartialFirst: Bool

    /// The bar under way and the slice it fills. A bar without a trade (volume 0: TWS's 5-second
    /// bar of a quiet window repeats the last price, which may be yesterday's close or the
    /// pre-market's) gives the bar no price while the slice has traded bars; `quietBar` keeps
    /// such bars apart for a slice that has none (an index, whose volume is always 0).
    private var current: Slice?
    private var bar: BuiltBar?
    private var quietBar: BuiltBar?
    private var notional: Double?
    private var partial = false
    private var started = false
    /// The start of the first bar ever added: a session that opens after it was seen whole,
    /// even when its own first 5-second bar came late (a quiet or a fast-replayed open).
    private var firstSeen: Int64?
    /// The label of the last slice finished: later bars of it (after a day's close) are ignored.
    private var finishedLabel: Int64 = .min

    struct Slice {
        /// The bar's time: the slice's start, or its first date at 00:00 UTC.
        let label: Int64
        /// The session the latest bar lay in: a bar inside it belongs to this slice at once.
        var sessionStart: Int64
        var sessionEnd: Int64
        /// When the slice ends, where known (a week beyond TWS's listing is not).
        let closesAt: Int64?
        /// Whether a bar at `sessionStart` is the first this slice can hold.
        let opensAtSession: Bool
    }

    static let timeBound: Int64 = 1 << 40

    public init(size: String, period: BarPeriod, calendar: TradingCalendar = .utc, dropsPartialFirst: Bool = false) {
        self.size = size
        self.period = period
        self.calendar = calendar
        self.dropsPartialFirst = dropsPartialFirst
    }

    /// Takes the instrument's calendar once TWS has told it. A bar begun under the old one is
    /// dropped, not finished: its slice may not be a slice of the new one.
    public mutating func use(_ calendar: TradingCalendar) {
        self.calendar = calendar
        followsInstrument = true
        current = nil
        bar = nil
        quietBar = nil
        started = false
    }

    /// Adds a bar of `step` seconds; returns the bars it finished (in order). `next`: where the
    /// data's next bar starts, when the caller knows it (a backtest), `.some(nil)` at the end of
    /// the data; nil when it does not (live).
    public mutating func add(_ input: BuiltBar, seconds step: Int64, next: Int64?? = nil) -> [BuiltBar] {
        var finished: [BuiltBar] = []
        let time = input.time
        // Times come from TWS or a file: one past any calendar (beyond ±2^40 s, 34,000 years)
        // is no bar, and the sums below stay far from overflowing.
        guard time > -Self.timeBound, time < Self.timeBound, step > 0, step < Self.timeBound else { return [] }
        // Bars of the asked size already (5-second bars for "5 secs") are told as they come.
        if case let .seconds(length) = period, length == step { return [input] }
        if firstSeen == nil { firstSeen = time }
        // A bar of a day or more (a daily bar into weeks) is dated, not timed: its day is its
        // date as stored (midnight UTC), whatever the instrument's zone says of that instant.
        let dated = step >= 86400
        let slice: Slice?
        if let current, time >= current.sessionStart, time < current.sessionEnd {
            slice = current
        } else {
            slice = self.slice(of: time, dated: dated)
        }
        // A bar outside every session (after a close, a lunch break) ends a slice only once
        // past its close; one in another slice ends it at once.
        if let current, (slice.map { $0.label != current.label } ?? false) || time >= (current.closesAt ?? .max) {
            finish(into: &finished)
        }
        guard let slice, slice.label != finishedLabel else { return finished }
        if current?.label == slice.label {
            current?.sessionStart = slice.sessionStart
            current?.sessionEnd = slice.sessionEnd
        } else {
            partial = dropsPartialFirst && !started && !(slice.opensAtSession && (firstSeen ?? time) <= slice.sessionStart)
            started = true
            bar = nil
            quietBar = nil
            notional = nil
            current = slice
        }
        take(input, label: slice.label)
        guard let current else { return finished }
        if let closesAt = current.closesAt, time + step >= closesAt {
            finish(into: &finished)
        } else if case let .some(upcoming) = next, let upcoming, upcoming > -Self.timeBound, upcoming < Self.timeBound {
            let inside = upcoming >= current.sessionStart && upcoming < current.sessionEnd
            if !inside, upcoming >= (current.closesAt ?? .max) || (self.slice(of: upcoming, dated: dated).map { $0.label != current.label } ?? false) {
                finish(into: &finished)
            }
        }
        return finished
    }

    /// Adds `input` to the slice's bar: a traded one (or one whose volume is not known) to
    /// `bar`, a quiet one (volume 0) to `quietBar`.
    private mutating func take(_ input: BuiltBar, label: Int64) {
        if input.volume == 0 {
            if let quiet = quietBar {
                var unused: Double?
                quietBar = Self.absorbed(input, into: quiet, notional: &unused)
            } else {
                var first = input
                first.time = label
                quietBar = first
            }
        } else if let building = bar {
            bar = Self.absorbed(input, into: building, notional: &notional)
        } else {
            var first = input
            first.time = label
            bar = first
            notional = input.wap.flatMap { wap in input.volume.map { wap * $0 } }
        }
    }

    private static func absorbed(_ input: BuiltBar, into building: BuiltBar, notional: inout Double?) -> BuiltBar {
        var building = building
        building.high = max(building.high, input.high)
        building.low = min(building.low, input.low)
        building.close = input.close
        if let volume = input.volume {
            let total = (building.volume ?? 0) + volume
            notional = notional.flatMap { sum in input.wap.map { sum + $0 * volume } }
            building.volume = total
            building.wap = notional.flatMap { total > 0 ? $0 / total : nil }
        } else if building.volume != nil {
            notional = nil
            building.wap = nil
        }
        if let count = input.count {
            // Counts are TWS's or a file's: a sum past Int saturates instead of trapping.
            let (sum, overflow) = (building.count ?? 0).addingReportingOverflow(count)
            building.count = overflow ? (count < 0 ? .min : .max) : sum
        }
        return building
    }

    private mutating func finish(into finished: inout [BuiltBar]) {
        if let done = bar ?? quietBar, !partial { finished.append(done) }
        if let current { finishedLabel = current.label }
        current = nil
        bar = nil
        quietBar = nil
        partial = false
    }

    /// The slice a bar starting at `time` falls in; nil outside every session. `dated`: the
    /// bar is a day's or longer, placed by its date (its week or month), not by the sessions.
    private func slice(of time: Int64, dated: Bool) -> Slice? {
        if dated, period == .week || period == .month {
            let day = TradingCalendar.floorDivide(time, 86400)
            let days = period == .week ? Self.week(of: day) : Self.month(of: day)
            return Slice(label: days.lowerBound * 86400, sessionStart: day * 86400, sessionEnd: (day + 1) * 86400, closesAt: nil,
                         opensAtSession: day == days.lowerBound)
        }
        switch period {
        case let .seconds(length):
            let start = TradingCalendar.floorDivide(time, length) * length
            return Slice(label: start, sessionStart: start, sessionEnd: start + length, closesAt: start + length, opensAtSession: true)
        case .day:
            guard let place = calendar.placement(of: time) else { return nil }
            return Slice(label: place.day * 86400, sessionStart: place.sessionStart, sessionEnd: place.sessionEnd,
                         closesAt: calendar.close(ofDay: place.day), opensAtSession: !calendar.hasEarlierSession(than: place))
        case .week, .month:
            guard let place = calendar.placement(of: time) else { return nil }
            let days = period == .week ? Self.week(of: place.day) : Self.month(of: place.day)
            let last = calendar.lastListedDay(in: days)
            return Slice(label: days.lowerBound * 86400, sessionStart: place.sessionStart, sessionEnd: place.sessionEnd,
                         closesAt: last.map { calendar.close(ofDay: $0) },
                         opensAtSession: place.day == days.lowerBound && !calendar.hasEarlierSession(than: place))
        }
    }

    /// Monday to Sunday around `day` (1970-01-01 was a Thursday).
    static func week(of day: Int64) -> ClosedRange<Int64> {
        let monday = day - (CivilDate.weekday(day) + 6) % 7
        return monday...(monday + 6)
    }

    /// The calendar month around `day`.
    static func month(of day: Int64) -> ClosedRange<Int64> {
        let date = TradingCalendar.civil(day)
        let first = TradingCalendar.day(year: date.year, month: date.month, day: 1)
        let next = date.month == 12 ? TradingCalendar.day(year: date.year + 1, month: 1, day: 1)
            : TradingCalendar.day(year: date.year, month: date.month + 1, day: 1)
        return first...(next - 1)
    }
}
