import Foundation
import Testing
import TWSProtocol
@testable import PaperGateway

/// The paper gateway's history is one seeded path backwards from now: requests for
/// consecutive days (as `moonwire history` asks for them, a day per request) meet at
/// midnight, and sessions meet over the night (the path stands still while the market is
/// closed). Before, each request walked back from the current price on its own, so every
/// day closed near that price and the next day opened elsewhere (gaps of 4 to 10 against a
/// median of 0).
@Suite("Paper history: one continuous path")
struct ContinuousHistoryTests {
    static let aapl = Instrument.defaultUniverse[0]
    static let utc = TimeZone(identifier: "UTC")!
    /// 2026-01-05 00:00 UTC, a Monday; "now" is noon four days later.
    static let day0 = 1_767_571_200
    static let now = day0 + 4 * 86_400 + 43_200

    static func minutes(ending end: Int, days: Int = 1, seed: UInt64 = 7, price: Double = 190.12, now: Int = now) throws -> [Bar] {
        try BarHistory.bars(instrument: aapl, seed: seed, barSeconds: 60, durationSeconds: days * 86_400, end: end, price: price, now: now,
                            whatToShow: "TRADES", formatDate: 2, zone: utc)
    }

    /// Three days, one request each, oldest first.
    static func dayByDay(seed: UInt64 = 7) throws -> [Bar] {
        try (1...3).flatMap { try minutes(ending: day0 + $0 * 86_400, seed: seed) }
    }

    /// Whether `epoch` (a bar's start) lies in AAPL's trading hours: Monday to Friday
    /// 04:00-20:00 New York (`TradingHours`).
    static func inStockHours(_ epoch: Int) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "America/New_York")!
        let c = calendar.dateComponents([.weekday, .hour], from: Date(timeIntervalSince1970: Double(epoch)))
        return (2...6).contains(c.weekday!) && (4..<20).contains(c.hour!)
    }

    @Test("a session's first open is the last session's close, and a day's the day before's: no gap beyond one tick (0.01)")
    func midnightsMeet() throws {
        let bars = try Self.dayByDay()
        // The minutes of the trading hours only: Monday from 04:00 New York (09:00 UTC), then
        // to 20:00 (01:00 UTC) and from 04:00 each day: 900 + 960 + 960.
        #expect(bars.count == 2_820)
        let minutes = (0..<(3 * 1_440)).map { Self.day0 + $0 * 60 }.filter { Self.inStockHours($0) }.map { String($0) }
        #expect(bars.map(\.date) == minutes, "one bar a trading minute, in order, none missing")
        // Where the requests meet (UTC midnights, inside the evening session) and where the
        // sessions meet (20:00 to 04:00 the next morning).
        let joins = bars.indices.dropFirst().filter { Int(bars[$0].date)! % 86_400 == 0 || Int(bars[$0].date)! != Int(bars[$0 - 1].date)! + 60 }
        #expect(joins.count == 4, "two midnights, two mornings: \(joins.map { bars[$0].date })")
        for join in joins {
            let gap = abs(bars[join].open - bars[join - 1].close)
            #expect(gap <= 0.01 + 1e-9, "gap of \(gap) at bar \(join) (\(bars[join - 1].close) -> \(bars[join].open))")
        }
        // And so within each day: the path has no jumps anywhere, every bar opens at the last close.
        let largest = zip(bars, bars.dropFirst()).map { abs($1.open - $0.close) }.max() ?? 0
        #expect(largest <= 0.01 + 1e-9, "largest gap between bars \(largest)")
        // The path still moves: not a flat line that would meet trivially.
        let closes = Set(bars.map(\.close))
        #expect(closes.count > 100, "\(closes.count) distinct closes")
    }

    @Test("the same bars whichever way they are asked for: three days at once or a day at a time")
    func spansAgree() throws {
        let atOnce = try Self.minutes(ending: Self.day0 + 3 * 86_400, days: 3)
        #expect(atOnce == (try Self.dayByDay()))
        // A daily bar opens at its session's first minute and closes at its last (the sessions
        // run to 01:00 UTC: the minutes asked to 02:00).
        let minutes = try Self.minutes(ending: Self.day0 + 3 * 86_400 + 7_200, days: 3)
        var sessions: [[Bar]] = []
        for bar in minutes {
            if let last = sessions.last?.last, Int(bar.date)! == Int(last.date)! + 60 {
                sessions[sessions.count - 1].append(bar)
            } else {
                sessions.append([bar])
            }
        }
        #expect(sessions.map(\.count) == [960, 960, 960])
        let daily = try BarHistory.bars(instrument: Self.aapl, seed: 7, barSeconds: 86_400, durationSeconds: 3 * 86_400,
                                        end: Self.day0 + 3 * 86_400, price: 190.12, now: Self.now, whatToShow: "TRADES", formatDate: 2,
                                        zone: Self.utc)
        #expect(daily.map(\.date) == ["20260105", "20260106", "20260107"])
        #expect(daily.map(\.open) == sessions.map { $0.first!.open })
        #expect(daily.map(\.close) == sessions.map { $0.last!.close })
        // Made of those minutes: the day's range holds every minute's, its volume is theirs.
        #expect(daily.map(\.high) == sessions.map { $0.map(\.high).max()! })
        #expect(daily.map(\.low) == sessions.map { $0.map(\.low).min()! })
        #expect(daily.map { $0.volume?.doubleValue } == sessions.map { $0.reduce(0.0) { $0 + ($1.volume?.doubleValue ?? 0) } })
        #expect(daily.map(\.barCount) == sessions.map { $0.reduce(0) { $0 + $1.barCount } })
        // Weeks of those days: one week here (Monday 5 to Wednesday 7 January 2026).
        let weekly = try BarHistory.bars(instrument: Self.aapl, seed: 7, barSeconds: 7 * 86_400, durationSeconds: 3 * 86_400,
                                         end: Self.day0 + 3 * 86_400, price: 190.12, now: Self.now, whatToShow: "TRADES", formatDate: 2,
                                         zone: Self.utc)
        #expect(weekly.count == 1 && weekly.first?.date == "20260105")
        #expect(weekly.first?.open == daily.first?.open && weekly.first?.close == daily.last?.close)
        #expect(weekly.first?.high == daily.map(\.high).max() && weekly.first?.low == daily.map(\.low).min())
    }

    @Test("repeatable for a seed; another seed is another path")
    func repeatable() throws {
        #expect(try Self.dayByDay(seed: 7) == (try Self.dayByDay(seed: 7)))
        #expect(try Self.dayByDay(seed: 7).map(\.close) != (try Self.dayByDay(seed: 8)).map(\.close))
    }

    @Test("the path passes through the current price now: the last bar of a request ending now closes there")
    func endsAtTheCurrentPrice() throws {
        let bars = try Self.minutes(ending: Self.now, price: 190.12, now: Self.now)
        #expect(bars.last?.close == 190.12)
        // Asked a little later at a moved price, the days before keep their shape: scaled by the
        // move, never re-drawn.
        let before = try Self.minutes(ending: Self.day0 + 86_400)
        let moved = try Self.minutes(ending: Self.day0 + 86_400, price: 190.12 * 1.001)
        for (a, b) in zip(before, moved) { #expect(abs(b.close / a.close - 1.001) < 0.0001, "\(a.close) -> \(b.close)") }
    }

    @Test("prices are the doubles nearest their decimals: 187.64, never 187.64000000000001")
    func shortestDecimals() throws {
        let bars = try Self.dayByDay()
        for bar in bars {
            for price in [bar.open, bar.high, bar.low, bar.close] {
                let text = "\(price)"
                let decimals = text.split(separator: ".").dropFirst().first?.count ?? 0
                #expect(decimals <= 2, "\(text)")
            }
        }
        let es = Instrument(symbol: "ESZ6", conId: 1, primaryExchange: "CME", longName: "E-mini S&P 500", startPrice: 5450, volatility: 0.16,
                            tickSize: 0.25)
        #expect(BarHistory.onTick(5450.3, es) == 5450.25)
        #expect(BarHistory.onTick(187.6412, Self.aapl) == 187.64 && "\(BarHistory.onTick(187.6412, Self.aapl))" == "187.64")
    }
}
