import Foundation
import StrategyHost
import Testing
import TWSProtocol
@testable import PaperGateway

/// The paper gateway's history keeps each instrument type's trading hours (`TradingHours`):
/// useRTH 0 gives bars in the trading hours only, useRTH 1 in the regular hours only; no
/// weekend bars where the type does not trade then; and the hours its contract details send
/// describe the same sessions, so a `TradingCalendar` built from them places every bar.
@Suite("Paper history: trading hours per instrument type")
struct TradingHoursTests {
    static let universe = Instrument.defaultUniverse
    static let aapl = universe.first { $0.symbol == "AAPL" }!
    static let es = universe.first { $0.symbol == "ESZ6" }!
    static let eur = universe.first { $0.symbol == "EUR.USD" }!
    static let spx = universe.first { $0.symbol == "SPX" }!
    static let option = universe.first { $0.secType == "OPT" }!
    static let btc = Instrument(symbol: "BTC", conId: 479_624_278, primaryExchange: "PAXOS", longName: "Bitcoin", startPrice: 60_000,
                                volatility: 0.6, tickSize: 0.25, lot: 1, secType: "CRYPTO", exchange: "PAXOS")
    static let newYork = TimeZone(identifier: "America/New_York")!
    /// 2026-01-05 00:00 UTC, a Monday (New York is on EST, UTC-5, all month).
    static let monday = 1_767_571_200
    static let hour = 3600, day = 86_400
    /// Tuesday 2026-01-13 07:00 New York: four days back reach Friday 07:00, over a weekend and a night.
    static let tuesday7am = monday + 8 * day + 12 * hour

    static func bars(_ instrument: Instrument, bar: Int = 60, days: Int = 4, end: Int = TradingHoursTests.tuesday7am, now: Int? = nil,
                     rth: Bool = false, seed: UInt64 = 3) throws -> [Bar]
    {
        try BarHistory.bars(instrument: instrument, seed: seed, barSeconds: bar, durationSeconds: days * day, end: end,
                            price: instrument.startPrice, now: now ?? end + 7 * day, useRTH: rth, whatToShow: "TRADES", formatDate: 2,
                            zone: TimeZone(identifier: "UTC")!)
    }

    /// A bar's start in New York: weekday (1 Sunday ... 7 Saturday) and minutes after midnight.
    static func newYorkTime(_ bar: Bar) -> (weekday: Int, minute: Int) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = newYork
        let c = calendar.dateComponents([.weekday, .hour, .minute], from: Date(timeIntervalSince1970: Double(bar.date)!))
        return (c.weekday!, c.hour! * 60 + c.minute!)
    }

    static func minute(_ hour: Int, _ minute: Int = 0) -> Int { hour * 60 + minute }

    @Test("a stock: useRTH 0 only Monday to Friday 04:00-20:00 New York, useRTH 1 only 09:30-16:00; over a weekend and a night")
    func stockHours() throws {
        let extended = try Self.bars(Self.aapl)
        // Friday 07:00-20:00, Monday 04:00-20:00, Tuesday 04:00-07:00.
        #expect(extended.count == 13 * 60 + 16 * 60 + 3 * 60)
        for bar in extended {
            let t = Self.newYorkTime(bar)
            #expect((2...6).contains(t.weekday) && t.minute >= Self.minute(4) && t.minute < Self.minute(20), "\(bar.date): \(t)")
        }
        let regular = try Self.bars(Self.aapl, rth: true)
        #expect(regular.count == 2 * 390, "Friday's and Monday's regular sessions")
        for bar in regular {
            let t = Self.newYorkTime(bar)
            #expect((2...6).contains(t.weekday) && t.minute >= Self.minute(9, 30) && t.minute < Self.minute(16), "\(bar.date): \(t)")
        }
        // The regular bars are the same bars as in the whole day: one path, cut two ways.
        let byDate = Dictionary(uniqueKeysWithValues: extended.map { ($0.date, $0) })
        #expect(regular.allSatisfy { byDate[$0.date] == $0 })
    }

    @Test("continuous over the night and the weekend: every bar opens where the one before it closed; the same for a seed")
    func continuity() throws {
        let bars = try Self.bars(Self.aapl)
        let gaps = zip(bars, bars.dropFirst()).map { abs($1.open - $0.close) }
        #expect((gaps.max() ?? 1) <= 0.01 + 1e-9, "largest gap \(gaps.max() ?? 0)")
        #expect(Set(bars.map(\.close)).count > 100, "the path moves")
        #expect(try Self.bars(Self.aapl) == bars)
        #expect(try Self.bars(Self.aapl, seed: 4).map(\.close) != bars.map(\.close))
        // Regular sessions open near the last regular close: the path moved only as much as in
        // the extended hours between (at a quarter of the regular pace an hour).
        let regular = try Self.bars(Self.aapl, rth: true)
        let monday = regular[390]
        #expect(abs(monday.open / regular[389].close - 1) < 0.03, "\(regular[389].close) -> \(monday.open)")
    }

    @Test("day bars: one per trading day, no Saturday or Sunday, dated by the trading day")
    func dailyBars() throws {
        // Monday 2026-01-05 to Tuesday 2026-02-03: 22 weekdays.
        for rth in [false, true] {
            let daily = try Self.bars(Self.aapl, bar: Self.day, days: 30, end: Self.monday + 30 * Self.day, rth: rth)
            #expect(daily.count == 22)
            #expect(daily.first?.date == "20260105" && daily.last?.date == "20260203")
            for bar in daily {
                let weekday = Calendar(identifier: .gregorian).component(.weekday, from: Self.utcDate(bar.date))
                #expect((2...6).contains(weekday), "\(bar.date) is a weekend day")
            }
        }
        // A day bar opens at its first minute's open and closes at its last minute's close.
        let days = try Self.bars(Self.aapl, bar: Self.day, days: 1, end: Self.monday + Self.day + 2 * Self.hour)
        let minutes = try Self.bars(Self.aapl, days: 1, end: Self.monday + Self.day + 2 * Self.hour)
        #expect(days.map(\.date) == ["20260105"])
        #expect(days.first?.open == minutes.first?.open && days.first?.close == minutes.last?.close)
        // Forex and futures trade from Sunday evening: still no weekend day bars (Sunday
        // evening is Monday's). Up to Sunday 2026-01-18 13:00 New York, before that evening.
        for instrument in [Self.eur, Self.es] {
            let daily = try Self.bars(instrument, bar: Self.day, days: 14, end: Self.monday + 14 * Self.day - 6 * Self.hour)
            #expect(daily.map(\.date) == ["20260105", "20260106", "20260107", "20260108", "20260109",
                                          "20260112", "20260113", "20260114", "20260115", "20260116"], "\(instrument.symbol)")
        }
        // Week bars: Monday to Friday each.
        let weeks = try Self.bars(Self.aapl, bar: 7 * Self.day, days: 14, end: Self.monday + 14 * Self.day)
        #expect(weeks.map(\.date) == ["20260105", "20260112"])
    }

    static func utcDate(_ yyyymmdd: String) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let value = Int(yyyymmdd)!
        return calendar.date(from: DateComponents(year: value / 10000, month: value / 100 % 100, day: value % 100))!
    }

    @Test("forex: bars at 03:00 New York on a Tuesday, none from Friday 17:00 to Sunday 17:00")
    func forexHours() throws {
        let bars = try Self.bars(Self.eur, bar: 300)
        let times = bars.map(Self.newYorkTime)
        #expect(times.contains { $0.weekday == 3 && $0.minute == Self.minute(3) }, "Tuesday 03:00")
        #expect(!times.contains { $0.weekday == 7 }, "Saturday")
        #expect(!times.contains { $0.weekday == 6 && $0.minute >= Self.minute(17) }, "Friday after 17:00")
        #expect(!times.contains { $0.weekday == 1 && $0.minute < Self.minute(17) }, "Sunday before 17:00")
        // Around the clock in between: Friday 07:00-17:00, Sunday 17:00 to Tuesday 07:00.
        #expect(bars.count == (10 + 38) * 12)
    }

    @Test("a future: none in the daily 17:00-18:00 New York break, none on Saturday; regular hours 09:30-16:00")
    func futureHours() throws {
        let bars = try Self.bars(Self.es)
        let times = bars.map(Self.newYorkTime)
        #expect(!times.contains { $0.minute >= Self.minute(17) && $0.minute < Self.minute(18) }, "the break")
        #expect(!times.contains { $0.weekday == 7 || ($0.weekday == 1 && $0.minute < Self.minute(18)) }, "the weekend")
        #expect(times.contains { $0.weekday == 1 && $0.minute == Self.minute(18) }, "Sunday evening's open")
        #expect(times.contains { $0.weekday == 3 && $0.minute == Self.minute(3) }, "overnight")
        let regular = try Self.bars(Self.es, rth: true).map(Self.newYorkTime)
        #expect(regular.count == 2 * 390)
        #expect(regular.allSatisfy { $0.minute >= Self.minute(9, 30) && $0.minute < Self.minute(16) })
    }

    @Test("options and indexes: 09:30-16:00 only, whatever useRTH; crypto around the clock, weekends too")
    func otherTypes() throws {
        for instrument in [Self.option, Self.spx] {
            for rth in [false, true] {
                let times = try Self.bars(instrument, rth: rth).map(Self.newYorkTime)
                #expect(times.count == 2 * 390, "\(instrument.symbol) useRTH \(rth)")
                #expect(times.allSatisfy { $0.minute >= Self.minute(9, 30) && $0.minute < Self.minute(16) })
            }
        }
        #expect(try Self.bars(Self.btc).count == 4 * 1440)
    }

    @Test("the hours the contract details send, parsed by TradingCalendar, place every history bar in a session",
          arguments: [TradingHoursTests.aapl, TradingHoursTests.es, TradingHoursTests.eur, TradingHoursTests.spx, TradingHoursTests.option, TradingHoursTests.btc])
    func calendarAgrees(_ instrument: Instrument) throws {
        let hours = TradingHours.of(instrument)
        let listedAt = Int64(Self.tuesday7am)
        for rth in [false, true] {
            let calendar = TradingCalendar(zoneName: hours.zoneName, hours: hours.listing(from: listedAt, regularOnly: rth))
            // Ten days before the listing (the calendar repeats its pattern) and the week it lists.
            let bars = try Self.bars(instrument, bar: 300, days: 17, end: Self.tuesday7am + 7 * Self.day, now: Self.tuesday7am + 8 * Self.day,
                                     rth: rth)
            #expect(bars.count > 800, "eleven trading days at least")
            var days = Set<String>()
            for bar in bars {
                let start = Int64(bar.date)!
                let place = calendar.placement(of: start)
                #expect(place != nil && place!.sessionEnd >= start + 300, "\(instrument.symbol) useRTH \(rth): \(bar.date) outside the sessions")
                if let place { days.insert(TradingHours.date(place.day)) }
            }
            // And the calendar's trading days are the day bars' dates.
            let daily = try Self.bars(instrument, bar: Self.day, days: 17, end: Self.tuesday7am + 7 * Self.day,
                                      now: Self.tuesday7am + 8 * Self.day, rth: rth)
            #expect(Set(daily.map(\.date)) == days, "\(instrument.symbol) useRTH \(rth)")
        }
    }

    @Test("the listing as TWS writes it: a week ahead, closed days named")
    func listing() {
        let aapl = TradingHours.of(Self.aapl).listing(from: Int64(Self.tuesday7am), regularOnly: false)
        #expect(aapl.hasPrefix("20260113:0400-20260113:2000;20260114:0400-20260114:2000;"))
        #expect(aapl.contains("20260117:CLOSED;20260118:CLOSED;20260119:0400-20260119:2000"))
        #expect(TradingHours.of(Self.aapl).listing(from: Int64(Self.tuesday7am), regularOnly: true).hasPrefix("20260113:0930-20260113:1600;"))
        let es = TradingHours.of(Self.es)
        #expect(es.zoneName == "US/Central")
        #expect(es.listing(from: Int64(Self.tuesday7am), regularOnly: false).hasPrefix("20260112:1700-20260113:1600;20260113:1700-20260114:1600;"))
        #expect(TradingHours.of(Self.eur).listing(from: Int64(Self.tuesday7am), days: 1, regularOnly: false) == "20260112:1700-20260113:1700")
    }

    @Test("\"1 D\" is a trading day: asked on a Sunday, Friday's session")
    func durationInTradingDays() throws {
        let sunday = Int64(Self.monday + 6 * Self.day + 15 * Self.hour)  // 2026-01-11 10:00 New York
        let start = TradingHours.of(Self.aapl).start(ofTradingDays: 1, before: sunday, regularOnly: true)
        #expect(start == Int64(Self.monday + 4 * Self.day + 14 * Self.hour + 1800), "Friday 09:30 New York")
        let two = TradingHours.of(Self.aapl).start(ofTradingDays: 2, before: sunday, regularOnly: false)
        #expect(two == Int64(Self.monday + 3 * Self.day + 9 * Self.hour), "Thursday 04:00 New York")
        #expect(GatewayEngine.tradingDays(in: "2 D") == 2 && GatewayEngine.tradingDays(in: "3600 S") == nil)
    }

    @Test("the gateway's own answers: contract details from the table, history inside their sessions")
    func throughTheGateway() async throws {
        var config = PaperGatewayConfig()
        config.port = 0
        config.market.clock = "manual"
        try await withGateway(config) { server in
            let client = try TestClient(port: server.port)
            try client.start(clientId: 1)
            try client.send(.reqContractDetails(ReqContractDetails(reqId: 1, contract: Contract(symbol: "AAPL"))))
            try client.wait(for: "contractDataEnd") { $0.contains { if case .contractDataEnd = $0 { true } else { false } } }
            guard let answer = client.received.first(where: { if case .contractData = $0 { true } else { false } }),
                  case let .contractData(data) = answer
            else {
                Issue.record("no contract details")
                return
            }
            let details = data.details
            #expect(details.timeZoneId == "US/Eastern")
            #expect(details.tradingHours.contains("0400-") && details.liquidHours.contains("0930-"), "\(details.tradingHours)")
            for (reqId, rth) in [(2, false), (3, true)] {
                try client.send(.reqHistoricalData(ReqHistoricalData(reqId: reqId, contract: Contract(symbol: "AAPL"), durationStr: "5 D",
                                                                     barSizeSetting: "30 mins", useRTH: rth, formatDate: 2)))
            }
            let messages = try client.wait(for: "both histories") { messages in
                messages.filter { if case .historicalDataEnd = $0 { true } else { false } }.count == 2
            }
            for case let .historicalData(history) in messages {
                let rth = history.reqId == 3
                let calendar = TradingCalendar(zoneName: details.timeZoneId, hours: rth ? details.liquidHours : details.tradingHours)
                // "5 D": five trading days, at any hour the test runs (the last may be under way).
                #expect(history.bars.count >= (rth ? 4 * 13 : 4 * 32), "useRTH \(rth): \(history.bars.count) bars")
                for bar in history.bars {
                    #expect(calendar.placement(of: Int64(bar.date)!) != nil, "useRTH \(rth): \(bar.date) outside \(rth ? details.liquidHours : details.tradingHours)")
                }
            }
        }
    }
}
