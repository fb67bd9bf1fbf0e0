import Foundation
import TWSProtocol

/// When an instrument of each type trades: the one table the paper gateway's history (which
/// bars exist, for useRTH 1 and 0) and its contract details (`tradingHours`, `liquidHours`,
/// `timeZoneId`) both come from, so a calendar built from the details agrees with the history.
/// The live market is not held to it: quotes move at any hour, so a demo works at night.
///
/// | type | zone | trading hours | regular (liquid) hours |
/// |---|---|---|---|
/// | stocks, ETFs (and any type not below) | New York | Mon–Fri 04:00–20:00 | 09:30–16:00 |
/// | futures | Chicago | Sun–Thu 17:00 to 16:00 the next day (18:00–17:00 New York, an hour's break) | Mon–Fri 08:30–15:00 (09:30–16:00 New York) |
/// | options, indexes | New York | Mon–Fri 09:30–16:00 | the same |
/// | forex | New York | Sun 17:00 to Fri 17:00, without a break (a trading day from 17:00 to 17:00) | the same |
/// | crypto | UTC | every day, around the clock | the same |
///
/// No holidays: every weekday trades.
public struct TradingHours: Sendable, Equatable {
    /// The zone the hours are local to, as TWS names it in `timeZoneId`.
    public let zoneName: String
    let zone: TimeZone
    /// A week's sessions in local seconds from Sunday 00:00 (half open, in order): the whole
    /// trading sessions (useRTH 0) and the regular ones inside them (useRTH 1).
    let trading: [Range<Int64>]
    let regular: [Range<Int64>]
    /// How fast the price path's clock runs in trading hours outside the regular ones, in
    /// `unitsPerSecond`ths of its pace inside them. The path moves only while the market is
    /// open, so a session opens where the one before it closed (no overnight jump), and moves
    /// less before and after the regular session, as thin markets do.
    let extendedPace: Int64

    /// The path's clock units in a second of regular hours (a sixteenth of a second each, so
    /// that the slower paces stay whole numbers).
    static let unitsPerSecond: Int64 = 16
    static let day: Int64 = 86_400
    static let week: Int64 = 7 * 86_400
    /// 1970-01-04 00:00, the first Sunday of the epoch, in local seconds.
    static let firstSunday: Int64 = 3 * 86_400

    init(zoneName: String, trading: [Range<Int64>], regular: [Range<Int64>]? = nil, extendedPace: Int64 = TradingHours.unitsPerSecond) {
        self.zoneName = zoneName
        zone = TimeZone(identifier: zoneName) ?? TimeZone(identifier: "UTC")!
        self.trading = trading
        self.regular = regular ?? trading
        self.extendedPace = extendedPace
    }

    // MARK: The table

    /// The hours of `instrument`'s type.
    public static func of(_ instrument: Instrument) -> TradingHours { of(secType: instrument.secType) }

    public static func of(secType: String) -> TradingHours {
        switch secType.uppercased() {
        case "FUT", "FOP", "CONTFUT": futures
        case "CASH": forex
        case "CRYPTO": crypto
        case "OPT", "IND": regularOnly
        default: stocks
        }
    }

    /// `hour:minute` as seconds.
    private static func at(_ hour: Int64, _ minute: Int64 = 0) -> Int64 { hour * 3600 + minute * 60 }

    /// A session on each of `days` (0 Sunday ... 6 Saturday) from `open` to `close` local
    /// seconds after its midnight (past 24 h: the next day).
    private static func daily(_ days: ClosedRange<Int64>, _ open: Int64, _ close: Int64) -> [Range<Int64>] {
        days.map { ($0 * day + open)..<($0 * day + close) }
    }

    static let stocks = TradingHours(zoneName: "US/Eastern", trading: daily(1...5, at(4), at(20)),
                                     regular: daily(1...5, at(9, 30), at(16)), extendedPace: 1)
    static let regularOnly = TradingHours(zoneName: "US/Eastern", trading: daily(1...5, at(9, 30), at(16)))
    static let futures = TradingHours(zoneName: "US/Central", trading: daily(0...4, at(17), day + at(16)),
                                      regular: daily(1...5, at(8, 30), at(15)), extendedPace: 4)
    static let forex = TradingHours(zoneName: "US/Eastern", trading: daily(0...4, at(17), day + at(17)))
    static let crypto = TradingHours(zoneName: "UTC", trading: daily(0...6, 0, day))

    // MARK: Sessions

    /// A session: UTC epoch seconds, half open; its trading day (the local date it ends on,
    /// as days since 1970-01-01: a futures session from Sunday 17:00 is Monday's); and the
    /// zone's offset from UTC during it (no clock change falls inside a session).
    public struct Session: Sendable, Equatable {
        public let start: Int64
        public let end: Int64
        public let day: Int64
        let offset: Int64
    }

    /// The sessions (the regular ones when `regularOnly`) that overlap `from..<to`, in order.
    public func sessions(from: Int64, to: Int64, regularOnly: Bool) -> [Session] {
        guard from < to else { return [] }
        let spans = regularOnly ? regular : trading
        let firstWeek = Self.floorDivide(from - 2 * Self.day - Self.firstSunday, Self.week) - 1
        let lastWeek = Self.floorDivide(to + 2 * Self.day - Self.firstSunday, Self.week)
        var out: [Session] = []
        for week in firstWeek...lastWeek {
            let sunday = Self.firstSunday + week * Self.week
            for span in spans {
                let start = utc(ofLocal: sunday + span.lowerBound), end = utc(ofLocal: sunday + span.upperBound)
                guard start < to, end > from else { continue }
                let offset = sunday + span.lowerBound - start
                out.append(Session(start: start, end: end, day: Self.floorDivide(sunday + span.upperBound - 1, Self.day), offset: offset))
            }
        }
        return out
    }

    /// The start of the `count`th trading day back (of the regular sessions when
    /// `regularOnly`), counting the day of the last session that began before `end` as the
    /// first: IB's "N D" durations are trading days, so a day asked for on a Sunday is Friday.
    public func start(ofTradingDays count: Int, before end: Int64, regularOnly: Bool) -> Int64? {
        guard count > 0 else { return nil }
        // Every type trades at least five days a week: N trading days lie within N × 7/5 + 14 days.
        let lookback = (Int64(count) * 7 / 5 + 14) * Self.day
        let listed = sessions(from: end - lookback, to: end, regularOnly: regularOnly).filter { $0.start < end }
        var days: [Int64] = []
        for session in listed.reversed() where days.last != session.day {
            days.append(session.day)
            if days.count == count { break }
        }
        guard days.count == count, let first = days.last else { return nil }
        return listed.first { $0.day == first }?.start
    }

    // MARK: The price path's clock

    /// The path's clock at `time`: `unitsPerSecond` a second in regular hours, `extendedPace`
    /// in the rest of the trading hours, nothing while closed. It depends on `time` alone, so
    /// every request that covers a moment prices it alike.
    func clock(at time: Int64) -> Int64 {
        clock(local: time + Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(time)))))
    }

    /// The clock at `time` inside `session` (its offset known: no zone lookup per bar).
    func clock(at time: Int64, in session: Session) -> Int64 { clock(local: time + session.offset) }

    private func clock(local: Int64) -> Int64 {
        let weeks = Self.floorDivide(local - Self.firstSunday, Self.week)
        let into = local - Self.firstSunday - weeks * Self.week
        return weeks * clockInWeek(upTo: Self.week) + clockInWeek(upTo: into)
    }

    /// The clock's units from Sunday 00:00 to `second` of the week.
    private func clockInWeek(upTo second: Int64) -> Int64 {
        func open(_ spans: [Range<Int64>]) -> Int64 {
            spans.reduce(0) { $0 + max(0, min($1.upperBound, second) - $1.lowerBound) }
        }
        return extendedPace * open(trading) + (Self.unitsPerSecond - extendedPace) * open(regular)
    }

    // MARK: As TWS lists them

    /// The trading days from `time`'s local date on, `days` of them, as TWS writes trading or
    /// liquid hours: `20261202:0400-20261202:2000;20261205:CLOSED;...` (a session past
    /// midnight ends on its own date: `20261201:1700-20261202:1600`).
    public func listing(from time: Int64, days: Int = 7, regularOnly: Bool) -> String {
        let offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(time))))
        let today = Self.floorDivide(time + offset, Self.day)
        let span = sessions(from: time - 2 * Self.day, to: time + Int64(days + 2) * Self.day, regularOnly: regularOnly)
        return (today..<(today + Int64(days))).map { day in
            let own = span.filter { $0.day == day }
            guard !own.isEmpty else { return "\(Self.date(day)):CLOSED" }
            return own.map { "\(stamp($0.start + $0.offset))-\(stamp($0.end + $0.offset))" }.joined(separator: ";")
        }.joined(separator: ";")
    }

    /// `YYYYMMDD:HHMM` of local seconds.
    private func stamp(_ local: Int64) -> String {
        let into = local - Self.floorDivide(local, Self.day) * Self.day
        return Self.date(Self.floorDivide(local, Self.day)) + String(format: ":%02d%02d", Int(into / 3600), Int(into % 3600 / 60))
    }

    /// `YYYYMMDD` of days since 1970-01-01.
    static func date(_ day: Int64) -> String {
        let c = civil(day)
        return String(format: "%04d%02d%02d", Int(c.year), Int(c.month), Int(c.day))
    }

    /// The civil date of days since 1970-01-01.
    static func civil(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) { CivilDate.civil(days) }

    // MARK: Dates

    /// The UTC instant of local `local` seconds (TradingCalendar's way: the offset looked up
    /// twice, so a moment near a clock change lands on the right side of it).
    private func utc(ofLocal local: Int64) -> Int64 {
        let first = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local))))
        let second = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local - first))))
        return local - second
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 { CivilDate.floorDivide(value, divisor) }
}
