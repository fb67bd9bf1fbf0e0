import Foundation
import TWSProtocol

/// An instrument's trading days, from what TWS says of it (its time zone and its trading or
/// liquid hours, `20261202:0930-20261202:1600;20261203:CLOSED;...`): which session a moment
/// belongs to, which trading day that session is, and when the day ends. Days, weeks and months
/// of bars are cut by it.
///
/// Days the listing does not cover (TWS lists about a week from today; a backtest's years have
/// no listing) follow the pattern of the last listed open day, in the zone's local time, so
/// clock changes move the UTC hours and not the session. With no hours at all, a trading day is
/// the zone's calendar day (UTC for a backtest: the bar store keeps no time zone).
public struct TradingCalendar: Sendable {
    /// A session of the listing: UTC epoch seconds, half open, and its trading day (the local
    /// date its session ends on, as days since 1970-01-01: a futures session from 17:00 the
    /// evening before belongs to the next day, as IB dates it).
    struct Session: Sendable, Equatable {
        let start: Int64
        let end: Int64
        let day: Int64
    }

    /// Where a moment falls: its trading day and the session around it.
    public struct Placement: Sendable, Equatable {
        public let day: Int64
        public let sessionStart: Int64
        public let sessionEnd: Int64
    }

    public let zone: TimeZone
    let sessions: [Session]
    /// The last listed open day's sessions as seconds from that day's local midnight (a start
    /// may be negative: the evening before).
    let pattern: [ClosedRange<Int64>]

    public static let utc = TradingCalendar(zone: TimeZone(identifier: "UTC")!, hours: "")

    /// `zoneName` as TWS spells it (`US/Eastern`, `EST (Eastern Standard Time)`, `MET`); an
    /// unknown one is UTC. `hours`: the liquid hours where TWS gives them (the regular session a
    /// daily bar covers), else the trading hours.
    public init(zoneName: String, hours: String) {
        self.init(zone: Self.zone(named: zoneName) ?? TimeZone(identifier: "UTC")!, hours: hours)
    }

    /// An instrument's, from its details (TWS's, or the bar store's): its liquid hours where
    /// given, else its trading hours, in its time zone.
    public init(details: ContractDetails) {
        self.init(zoneName: details.timeZoneId, hours: details.liquidHours.isEmpty ? details.tradingHours : details.liquidHours)
    }

    public init(zone: TimeZone, hours: String) {
        self.zone = zone
        let listed = Self.parse(hours, zone: zone)
        sessions = listed
        if let lastDay = listed.last?.day {
            let midnight = Self.midnight(of: lastDay, in: zone)
            pattern = listed.filter { $0.day == lastDay }.map { ($0.start - midnight)...($0.end - midnight) }
        } else {
            pattern = []
        }
    }

    /// The trading day and session of a bar starting at `time`; nil when the calendar knows
    /// sessions and `time` lies in none of them (after the close, a weekend in the listing).
    public func placement(of time: Int64) -> Placement? {
        if let first = sessions.first, let last = sessions.last, time >= first.start, time < last.end {
            // Binary search for the last session starting at or before `time`.
            var low = 0, high = sessions.count - 1
            while low < high {
                let middle = (low + high + 1) / 2
                if sessions[middle].start <= time { low = middle } else { high = middle - 1 }
            }
            let session = sessions[low]
            return session.start <= time && time < session.end
                ? Placement(day: session.day, sessionStart: session.start, sessionEnd: session.end) : nil
        }
        let local = localDay(of: time)
        guard !pattern.isEmpty else {
            return Placement(day: local, sessionStart: Self.midnight(of: local, in: zone), sessionEnd: Self.midnight(of: local + 1, in: zone))
        }
        for day in (local - 1)...(local + 1) {
            let midnight = Self.midnight(of: day, in: zone)
            for range in pattern where midnight + range.lowerBound <= time && time < midnight + range.upperBound {
                return Placement(day: day, sessionStart: midnight + range.lowerBound, sessionEnd: midnight + range.upperBound)
            }
        }
        return nil
    }

    /// When trading day `day` ends: its last session's end.
    public func close(ofDay day: Int64) -> Int64 {
        let listed = sessions.filter { $0.day == day }
        if let end = listed.map(\.end).max() { return end }
        if let first = sessions.first, let last = sessions.last, day >= first.day, day <= last.day {
            return Self.midnight(of: day + 1, in: zone)  // listed as closed: nothing trades in it
        }
        let midnight = Self.midnight(of: day, in: zone)
        return pattern.map { midnight + $0.upperBound }.max() ?? Self.midnight(of: day + 1, in: zone)
    }

    /// Whether trading day `place.day` has a session before the one `place` lies in (a bar at
    /// that session's start is then not the day's first).
    func hasEarlierSession(than place: Placement) -> Bool {
        if let first = sessions.first, let last = sessions.last, place.day >= first.day, place.day <= last.day {
            return sessions.contains { $0.day == place.day && $0.start < place.sessionStart }
        }
        let midnight = Self.midnight(of: place.day, in: zone)
        return pattern.contains { midnight + $0.lowerBound < place.sessionStart }
    }

    /// The last trading day the listing shows in the days `days` when it also shows a later
    /// one (so the span is known to end there), else nil: nothing tells when a week or a month
    /// beyond the listing ends.
    func lastListedDay(in days: ClosedRange<Int64>) -> Int64? {
        guard let last = sessions.last, last.day > days.upperBound else { return nil }
        return sessions.last { days.contains($0.day) }?.day
    }

    /// The part of `start..<end` from the first trading it can hold to the last: the sessions
    /// (or, with no hours known, the whole local days) of its weekdays, Saturday and Sunday
    /// being no trading day (crypto aside, which the caller keeps whole). Nil when it holds
    /// none: a span never downloaded over a weekend or a night is not missing anything.
    public func tradingPart(from start: Int64, to end: Int64) -> (start: Int64, end: Int64)? {
        guard start < end else { return nil }
        // Trading day `day`'s trading within the span, as its earliest start and latest end.
        func trading(on day: Int64) -> (start: Int64, end: Int64)? {
            let weekday = CivilDate.weekday(day)
            guard weekday != 0, weekday != 6 else { return nil }
            let midnight = Self.midnight(of: day, in: zone)
            let spans = pattern.isEmpty ? [midnight...Self.midnight(of: day + 1, in: zone)]
                : pattern.map { (midnight + $0.lowerBound)...(midnight + $0.upperBound) }
            let cut = spans.filter { max($0.lowerBound, start) < min($0.upperBound, end) }
            guard let from = cut.map(\.lowerBound).min(), let to = cut.map(\.upperBound).max() else { return nil }
            return (max(from, start), min(to, end))
        }
        // A session may begin the evening before its day (a future's): one day more each side.
        let firstDay = localDay(of: start) - 1, lastDay = localDay(of: end - 1) + 1
        // Within a week of either end lies a weekday's session, unless the span is shorter.
        let reach: Int64 = 7
        var earliest: (start: Int64, end: Int64)?, latest: (start: Int64, end: Int64)?
        var day = firstDay
        while earliest == nil, day <= min(lastDay, firstDay + reach) { earliest = trading(on: day); day += 1 }
        day = lastDay
        while latest == nil, day >= max(firstDay, lastDay - reach) { latest = trading(on: day); day -= 1 }
        if lastDay - firstDay > 2 * reach { return (earliest?.start ?? start, latest?.end ?? end) }
        guard let earliest, let latest else { return nil }
        return (earliest.start, latest.end)
    }

    // MARK: Dates

    /// The zone's local date of `time`, as days since 1970-01-01.
    func localDay(of time: Int64) -> Int64 {
        let offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(time))))
        return Self.floorDivide(time + offset, 86400)
    }

    /// The UTC instant of local midnight starting `day` in `zone`.
    static func midnight(of day: Int64, in zone: TimeZone) -> Int64 {
        let local = day * 86400
        let first = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local))))
        let second = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local - first))))
        return local - second
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 { CivilDate.floorDivide(value, divisor) }

    /// Days since 1970-01-01 of a civil date.
    static func day(year: Int64, month: Int64, day: Int64) -> Int64 { CivilDate.days(year: year, month: month, day: day) }

    /// The civil date of days since 1970-01-01.
    static func civil(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) { CivilDate.civil(days) }

    // MARK: Parsing what TWS sends

    /// The sessions of a trading-hours string, in both of TWS's forms:
    /// `20261202:0930-20261202:1600;20261203:CLOSED` and the older `20090507:0700-1830,1830-2330`.
    /// What does not parse is left out (TWS's text is outside input).
    static func parse(_ hours: String, zone: TimeZone) -> [Session] {
        guard !hours.isEmpty, hours.utf8.count <= 100_000 else { return [] }
        var sessions: [Session] = []
        for entry in hours.split(separator: ";") {
            let parts = entry.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let date = Self.date(parts[0]) else { continue }
            for range in parts[1].split(separator: ",") {
                let ends = range.split(separator: "-")
                guard ends.count == 2, let start = moment(ends[0], defaultDate: date, zone: zone),
                      let end = moment(ends[1], defaultDate: date, zone: zone), start < end
                else { continue }
                sessions.append(Session(start: start, end: end, day: Self.floorDivide(end - 1 + Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(end - 1)))), 86400)))
            }
        }
        sessions.sort { $0.start < $1.start }
        // Overlapping sessions (a malformed listing) would make the search ambiguous: dropped.
        var kept: [Session] = []
        for session in sessions where kept.last.map({ $0.end <= session.start }) ?? true { kept.append(session) }
        return kept
    }

    /// `20261202` as days since 1970, for years 1970 to 2200.
    private static func date(_ text: Substring) -> Int64? {
        guard text.count == 8, text.allSatisfy(\.isASCII), let value = Int64(text) else { return nil }
        let year = value / 10000, month = value / 100 % 100, day = value % 100
        guard (1970...2200).contains(year), (1...12).contains(month), (1...31).contains(day) else { return nil }
        let days = Self.day(year: year, month: month, day: day)
        return civil(days).day == day ? days : nil
    }

    /// `0930` (on `defaultDate`) or `20261202:0930`, local time in `zone`, as UTC epoch seconds.
    private static func moment(_ text: Substring, defaultDate: Int64, zone: TimeZone) -> Int64? {
        let parts = text.split(separator: ":")
        let day: Int64, clock: Substring
        switch parts.count {
        case 1: (day, clock) = (defaultDate, parts[0])
        case 2:
            guard let date = date(parts[0]) else { return nil }
            (day, clock) = (date, parts[1])
        default: return nil
        }
        guard clock.count == 4, clock.allSatisfy(\.isASCII), let value = Int64(clock), value <= 2400, value % 100 < 60 else { return nil }
        return midnight(of: day, in: zone) + (value / 100) * 3600 + (value % 100) * 60
    }

    /// IB's zone names: IANA ones (`US/Eastern`, `Europe/London`), and the abbreviations newer
    /// TWS versions send (`EST (Eastern Standard Time)`), which name a place's zone, not a
    /// fixed offset: `EST` in July is New York's summer time.
    /// The abbreviations are looked up first: the time-zone database also has `EST` and `MST`
    /// as fixed offsets, which would put a New York session an hour late all summer.
    public static func zone(named name: String) -> TimeZone? {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        let word = trimmed.split(separator: " ").first.map(String.init) ?? ""
        if let place = places[word.uppercased()].flatMap(TimeZone.init(identifier:)) { return place }
        if let zone = TimeZone(identifier: trimmed) { return zone }
        return TimeZone(identifier: word)
    }

    /// IB's abbreviations, each the place whose clock it names.
    private static let places = ["EST": "America/New_York", "EDT": "America/New_York", "CST": "America/Chicago", "CDT": "America/Chicago",
                      "MST": "America/Denver", "PST": "America/Los_Angeles", "GMT": "Europe/London", "BST": "Europe/London",
                      "MET": "Europe/Berlin", "CET": "Europe/Berlin", "JST": "Asia/Tokyo", "HKT": "Asia/Hong_Kong",
                      "AEST": "Australia/Sydney", "AEDT": "Australia/Sydney", "UTC": "UTC"]
}
