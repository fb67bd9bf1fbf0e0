import Foundation
import TWSProtocol

/// Parses IB's bar sizes and durations, and generates history consistent with the live
/// price: one seeded path per symbol (`PricePath`) through the current price now, from which
/// every request cuts its bars, so that requests for consecutive spans meet.
public enum BarHistory {
    public struct RequestError: Error, Equatable {
        public let code: Int
        public let message: String
    }

    /// Seconds in a bar for IB's `barSizeSetting` strings ("5 secs", "1 min", "1 day"...).
    public static func barSeconds(_ text: String) -> Int? { HistoricalSpan.barSeconds(text) }

    /// Seconds covered by IB's `durationStr` ("3600 S", "1 D", "2 W", "1 M", "1 Y").
    public static func durationSeconds(_ text: String) -> Int? { HistoricalSpan.durationSeconds(text) }

    /// Parses `YYYYMMDD HH:MM:SS [zone]`, `YYYYMMDD-HH:MM:SS` (UTC) or `YYYYMMDD`; nil if bad.
    public static func parseEndDate(_ text: String, defaultZone: TimeZone) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var calendar = Calendar(identifier: .gregorian)
        var dateText = trimmed
        var timeText = "23:59:59"
        var zone = defaultZone
        if trimmed.count >= 17, trimmed.dropFirst(8).first == "-" {
            dateText = String(trimmed.prefix(8))
            timeText = String(trimmed.dropFirst(9).prefix(8))
            zone = TimeZone(identifier: "UTC")!
        } else {
            let parts = trimmed.split(separator: " ", omittingEmptySubsequences: true)
            guard !parts.isEmpty else { return nil }
            dateText = String(parts[0])
            if parts.count >= 2 { timeText = String(parts[1]) }
            if parts.count >= 3 {
                guard let named = TimeZone(identifier: parts[2...].joined(separator: " ")) else { return nil }
                zone = named
            }
        }
        guard dateText.count == 8, let year = Int(dateText.prefix(4)), let month = Int(dateText.dropFirst(4).prefix(2)),
              let day = Int(dateText.suffix(2))
        else { return nil }
        let clock = timeText.split(separator: ":").compactMap { Int($0) }
        // Ranges first: the calendar would roll 25:00 or month 13 over (or overflow on a
        // client's 2^63 hours) instead of refusing them.
        guard clock.count == 3, (1...12).contains(month), (1...31).contains(day), (0...23).contains(clock[0]),
              (0...59).contains(clock[1]), (0...59).contains(clock[2])
        else { return nil }
        calendar.timeZone = zone
        let components = DateComponents(year: year, month: month, day: day, hour: clock[0], minute: clock[1], second: clock[2])
        guard let date = calendar.date(from: components), calendar.component(.day, from: date) == day else { return nil }
        return date
    }

    /// `YYYYMMDD HH:MM:SS <zone>` as TWS writes bar dates (formatDate 1).
    public static func format(_ epoch: Int, zone: TimeZone, dateOnly: Bool = false) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(epoch)))
        let date = String(format: "%04d%02d%02d", c.year!, c.month!, c.day!)
        if dateOnly { return date }
        return date + String(format: " %02d:%02d:%02d ", c.hour!, c.minute!, c.second!) + zone.identifier
    }

    /// The bars of a request ending at `end` (epoch seconds), cut from one seeded path of the
    /// instrument's price (`PricePath`) that passes through `price` at `now` (default: `end`):
    /// requests for consecutive spans meet where they meet (a bar opens where the one before
    /// it closed, across midnights, nights, weekends and requests alike), and the same seed,
    /// symbol, `now` and `price` give the same bars.
    ///
    /// Only inside the instrument's sessions (`TradingHours`): its trading hours, or its
    /// regular hours with `useRTH`. The path's clock stands still while the market is closed,
    /// so a session opens where the last one closed. A bar is cut at a session's edges (the
    /// 09:00 hour bar starts at 09:30); a day bar is a trading day's sessions, dated by that
    /// day; week and month bars are the trading days of a week (Monday to Sunday) or a month.
    public static func bars(instrument: Instrument, seed: UInt64, barSeconds: Int, durationSeconds: Int, end: Int,
                            price: Double, now: Int? = nil, useRTH: Bool = false, whatToShow: String, formatDate: Int,
                            zone: TimeZone) throws -> [Bar]
    {
        let count = max(1, durationSeconds / barSeconds)
        guard count <= 100_000 else {
            throw RequestError(code: 162, message: "Historical Market Data Service error message:Time length exceed max.")
        }
        let hours = TradingHours.of(instrument)
        let anchor = Int64(now ?? end)
        let daily = barSeconds >= 86400
        // Day bars are made of the day's minutes, the very bars a 1-minute request gets: the
        // day's high and low hold every minute's, its volume is theirs (it opens and closes
        // where its first and last minute do).
        let days = daily ? daySpans(hours: hours, from: Int64(end) - Int64(durationSeconds), end: Int64(end), anchor: anchor, useRTH: useRTH) : []
        let spans = daily
            ? days.flatMap { day in
                intradaySpans(hours: hours, step: 60, count: (day.end - day.start) / 60 + 2, end: day.end, anchor: anchor, useRTH: useRTH)
                    .filter { $0.start >= day.start }
            }
            : intradaySpans(hours: hours, step: Int64(barSeconds), count: Int64(count), end: Int64(end), anchor: anchor, useRTH: useRTH)
        let parts = cut(spans, instrument: instrument, seed: seed, barSeconds: daily ? 60 : barSeconds, price: price,
                        anchorClock: hours.clock(at: anchor))
        let trades = whatToShow == "TRADES"
        func bar(_ part: Part, date: String) -> Bar {
            Bar(date: date, open: part.open, high: part.high, low: part.low, close: part.close,
                volume: trades ? TWSDecimal(part.volume) : TWSDecimal(-1),
                wap: trades ? TWSDecimal(approximating: onTick(part.notional / Double(max(part.volume, 1)), instrument)) : TWSDecimal(-1),
                barCount: trades ? part.count : -1)
        }
        guard daily else {
            return zip(spans, parts).map { span, part in bar(part, date: formatDate == 2 ? String(span.start) : format(Int(span.start), zone: zone)) }
        }
        // The minutes into their days, the days into weeks or months; each dated by its first
        // trading day (as IB does: a futures day from Sunday evening is Monday's), whatever the zone.
        var grouped: [(key: Int64, day: Int64, part: Part)] = []
        var dayIndex = 0
        for (span, part) in zip(spans, parts) {
            while dayIndex < days.count - 1, span.start >= days[dayIndex + 1].start { dayIndex += 1 }
            let day = days[dayIndex].day ?? 0
            let key = group(day, barSeconds: barSeconds)
            if let last = grouped.last, last.key == key {
                grouped[grouped.count - 1].part = last.part.merged(with: part)
            } else {
                grouped.append((key, day, part))
            }
        }
        return grouped.map { bar($0.part, date: TradingHours.date($0.day)) }
    }

    /// A bar's prices, volume, trade count and notional (price × volume, for its wap).
    struct Part {
        var open: Double
        var high: Double
        var low: Double
        var close: Double
        var volume: Int
        var count: Int
        var notional: Double

        func merged(with later: Part) -> Part {
            Part(open: open, high: max(high, later.high), low: min(low, later.low), close: later.close, volume: volume + later.volume,
                 count: count + later.count, notional: notional + later.notional)
        }
    }

    /// The bars of `spans` cut from the instrument's path, at its tick. What is not the path
    /// (the extremes, volume, trade count) is drawn per bar from its start, so it too repeats
    /// for every request that covers the bar.
    static func cut(_ spans: [BarSpan], instrument: Instrument, seed: UInt64, barSeconds: Int, price: Double, anchorClock: Int64) -> [Part] {
        let path = PricePath(seed: seed, symbol: instrument.symbol).values(at: spans.flatMap { [$0.openClock, $0.closeClock] } + [anchorClock])
        // The path's units are sixteenths of a second of regular trading: a quarter of a
        // second's standard deviation.
        let sigma = instrument.volatility / MarketSimulator.tradingYear.squareRoot() / Double(TradingHours.unitsPerSecond).squareRoot()
        let atAnchor = path[anchorClock] ?? 0
        func priceAt(_ clock: Int64) -> Double { price * exp(sigma * ((path[clock] ?? atAnchor) - atAnchor)) }
        var streamRoot = SeededRandom(seed: seed, stream: "history-bars:\(instrument.symbol):\(barSeconds)")
        let streamKey = streamRoot.next()
        return spans.map { span in
            var generator = SeededRandom(seed: streamKey ^ UInt64(bitPattern: span.start), stream: "bar")
            let barSigma = sigma * Double(max(span.closeClock - span.openClock, 1)).squareRoot()
            let open = priceAt(span.openClock), close = priceAt(span.closeClock)
            let high = max(open, close) * (1 + abs(generator.gaussian()) * barSigma * 0.3)
            let low = min(open, close) * (1 - abs(generator.gaussian()) * barSigma * 0.3)
            let volume = instrument.lot * generator.integer(in: 5...400)
            let o = onTick(open, instrument), h = onTick(high, instrument), l = onTick(low, instrument), c = onTick(close, instrument)
            let count = generator.integer(in: 1...200)
            return Part(open: o, high: max(h, o, c), low: min(l, o, c), close: c, volume: volume, count: count,
                        notional: onTick((o + h + l + c) / 4, instrument) * Double(volume))
        }
    }

    /// What a bar covers: its start (epoch seconds), the path's clock at its open and close,
    /// and for a day, week or month bar the trading day it is dated by and how many it holds.
    struct BarSpan {
        let start: Int64
        let openClock: Int64
        let closeClock: Int64
        var day: Int64? = nil
        /// A day's end: its session's close, or the anchor for a day under way.
        var end: Int64 = 0
    }

    /// Intraday bars: the `count` slots of `step` seconds up to `end` (aligned on the epoch, as
    /// before), each cut to the sessions it overlaps; a bar still under way closes at `anchor`.
    static func intradaySpans(hours: TradingHours, step: Int64, count: Int64, end: Int64, anchor: Int64, useRTH: Bool) -> [BarSpan] {
        let lastStart = TradingHours.floorDivide(end - 1, step) * step
        let firstStart = lastStart - (count - 1) * step
        var spans: [BarSpan] = []
        for session in hours.sessions(from: firstStart, to: end, regularOnly: useRTH) {
            var slot = max(firstStart, TradingHours.floorDivide(session.start, step) * step)
            while slot <= lastStart, slot < session.end {
                let start = max(slot, session.start), close = min(slot + step, session.end, anchor)
                if start < end, start < close {
                    spans.append(BarSpan(start: start, openClock: hours.clock(at: start, in: session),
                                         closeClock: hours.clock(at: close, in: session)))
                }
                slot += step
            }
        }
        return spans
    }

    /// The trading days with a session in `from..<end` that began before `end`, each whole up
    /// to `anchor` (every trading day of the table is one session).
    static func daySpans(hours: TradingHours, from: Int64, end: Int64, anchor: Int64, useRTH: Bool) -> [BarSpan] {
        hours.sessions(from: from, to: end, regularOnly: useRTH).filter { $0.start < end && $0.start < anchor }.map { session in
            BarSpan(start: session.start, openClock: hours.clock(at: session.start, in: session),
                    closeClock: hours.clock(at: min(session.end, anchor), in: session), day: session.day, end: min(session.end, anchor))
        }
    }

    /// What a day bar of `day` belongs to: the day itself, its week (Monday to Sunday: day 0,
    /// 1970-01-01, was a Thursday) or its calendar month.
    static func group(_ day: Int64, barSeconds: Int) -> Int64 {
        if barSeconds <= 86400 { return day }
        if barSeconds <= 7 * 86400 { return TradingHours.floorDivide(day + 3, 7) }
        let date = TradingHours.civil(day)
        return date.year * 12 + date.month
    }

    /// `price` at a whole number of ticks, as the double nearest that decimal: 18764 / 100 is
    /// 187.64, where 18764 × 0.01 is 187.64000000000001 (which every CSV then printed).
    static func onTick(_ price: Double, _ instrument: Instrument) -> Double {
        let tick = instrument.tickSize
        guard tick > 0, price.isFinite else { return price }
        let ticks = max((price / tick).rounded(), 1)
        let perUnit = (1 / tick).rounded()
        // Ticks that divide 1 (0.01, 0.25, 0.00005): divide by a whole number, exact to the last digit.
        if perUnit >= 1, abs(perUnit * tick - 1) < 1e-9 { return ticks / perUnit }
        return ticks * tick
    }

    /// A replay's bars as history: those that ended by `end` within the duration, built up to
    /// `barSeconds` from the replay's own size (never a bar still under way: no look-ahead).
    public static func replayed(_ replay: MarketReplay, symbol: String, barSeconds: Int, durationSeconds: Int, end: Int,
                                formatDate: Int, zone: TimeZone) -> [Bar]
    {
        let from = Int64(end - durationSeconds), until = Int64(end)
        let daily = barSeconds >= 86400
        var out: [Bar] = []
        var bucket: Int64 = .min
        var building: (open: Double, high: Double, low: Double, close: Double, volume: Double)?
        func emit() {
            guard let b = building, bucket + Int64(barSeconds) <= until else { return }
            let date = formatDate == 2 && !daily ? String(bucket) : format(Int(bucket), zone: zone, dateOnly: daily)
            out.append(Bar(date: date, open: b.open, high: b.high, low: b.low, close: b.close, volume: TWSDecimal(approximating: b.volume),
                           wap: TWSDecimal(approximating: (b.open + b.high + b.low + b.close) / 4), barCount: 1))
        }
        for bar in replay.bars[symbol] ?? [] where bar.time >= from && bar.time + Int64(replay.barSeconds) <= until {
            let start = bar.time / Int64(barSeconds) * Int64(barSeconds)
            if start != bucket {
                emit()
                bucket = start
                building = (bar.open, bar.high, bar.low, bar.close, bar.volume)
            } else if let b = building {
                building = (b.open, max(b.high, bar.high), min(b.low, bar.low), bar.close, b.volume + bar.volume)
            }
        }
        emit()
        return out
    }
}
