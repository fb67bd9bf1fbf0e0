import Foundation
import MarketHistory
import Money
import TWSProtocol
import Testing

/// What a bar store keeps about an instrument (from TWS's answer), and the currency rates a
/// backtest reads from stored bars of a pair.
@Suite("Instrument details and rate series")
struct InstrumentDetailsTests {
    @Test("TWS's answer for ES, EUR.USD and AAPL as stored: multiplier, tick, currency, a pair's base")
    func fromTWS() {
        var contract = Contract(symbol: "ES", secType: "FUT", exchange: "CME", currency: "USD", conId: 637533641)
        contract.multiplier = "50"
        var details = ContractDetails()
        details.minTick = 0.25
        details.tradingHours = "20260105:1700-20260106:1600"
        let es = StoredInstrument(key: "ES 202612", contract: contract, details: details)
        #expect(es == StoredInstrument(key: "ES 202612", secType: "FUT", currency: "USD", exchange: "CME", multiplier: 50, tick: 0.25,
                                       tradingHours: "20260105:1700-20260106:1600"))
        #expect(es.terms == InstrumentTerms(secType: "FUT", currency: "USD", multiplier: 50))
        #expect(es.problem == nil)

        details.minTick = 0.00005
        details.tradingHours = ""
        let eur = StoredInstrument(key: "EUR.USD", contract: Contract(symbol: "EUR", secType: "CASH", exchange: "IDEALPRO", currency: "USD"),
                                   details: details)
        #expect(eur.pairBase == "EUR" && eur.multiplier == 1 && eur.terms.quantityUnit == "EUR")

        // TWS sends no multiplier for a stock (1), and a tick of 0 for some instruments: not storable.
        details.minTick = 0
        let aapl = StoredInstrument(key: "AAPL", contract: Contract(symbol: "AAPL"), details: details)
        #expect(aapl.multiplier == 1 && aapl.pairBase == nil)
        #expect(aapl.problem?.contains("tick 0.0") == true)
    }

    @Test("differences in money name both sides; the exchange and trading hours are not money")
    func differences() {
        let stored = StoredInstrument(key: "ES 202612", secType: "FUT", currency: "USD", exchange: "CME", multiplier: 50, tick: 0.25)
        var given = stored
        given.exchange = "GLOBEX"
        given.tradingHours = "x"
        #expect(stored.moneyDifferences(from: given).isEmpty)
        given.multiplier = 1
        given.tick = 0.01
        #expect(stored.moneyDifferences(from: given, mine: "stored", theirs: "given")
            == ["multiplier 50 (stored) vs 1 (given)", "tick 0.25 (stored) vs 0.01 (given)"])
    }

    @Test("a rate is the latest point at or before the time; none before the first")
    func lookup() {
        let source = BarSeries(instrument: "USD.JPY", barSize: "1 min", what: "MIDPOINT")
        let rates = RateSeries(currency: "jpy", base: "usd", source: source,
                               points: [(120, 1 / 151.0), (0, 1 / 150.0), (60, 1 / 150.5)])
        #expect(rates.currency == "JPY" && rates.base == "USD" && rates.start == 0)
        #expect(rates.rate(at: -1) == nil)
        #expect(rates.rate(at: 0) == 1 / 150.0)
        #expect(rates.rate(at: 59) == 1 / 150.0)
        #expect(rates.rate(at: 60) == 1 / 150.5)
        #expect(rates.rate(at: 119) == 1 / 150.5)
        #expect(rates.rate(at: .max) == 1 / 151.0)
        #expect(RateSeries(currency: "JPY", base: "USD", source: source, points: []).rate(at: 0) == nil)
    }

    @Test("rates load from BASE.CUR (inverted) or CUR.BASE, from a week before the span; bad closes left out; none: nil")
    func load() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rates-\(UUID().uuidString)")
        let store = try SQLiteBarStore(path: folder.appendingPathComponent("bars.sqlite").path)
        let day: Int64 = 1_704_153_600  // 2024-01-02 00:00 UTC
        func bar(_ time: Int64, _ close: Double) -> StoredBar { StoredBar(time: time, open: 1, high: 1000, low: 0, close: close) }
        // USD.JPY: the Friday before (inside the look-back), then the day itself.
        try await store.write([bar(day - 4 * 86_400, 141), bar(day + 60, 0), bar(day + 120, 142)],
                              of: BarSeries(instrument: "USD.JPY", barSize: "1 min", what: "MIDPOINT"), covering: TimeSpan(day - 5 * 86_400, day + 180))
        let jpy = try #require(try await RateSeries.load(currency: "JPY", base: "USD", barSize: "1 min", whats: ["TRADES", "MIDPOINT"],
                                                         span: TimeSpan(day, day + 180), store: store))
        #expect(jpy.source == BarSeries(instrument: "USD.JPY", barSize: "1 min", what: "MIDPOINT"))
        #expect(jpy.points.map(\.time) == [day - 4 * 86_400, day + 120])
        #expect(jpy.rate(at: day) == 1 / 141.0 && jpy.rate(at: day + 120) == 1 / 142.0)

        try await store.write([bar(day, 1.27)], of: BarSeries(instrument: "GBP.USD", barSize: "1 min", what: "MIDPOINT"), covering: TimeSpan(day, day + 60))
        let gbp = try #require(try await RateSeries.load(currency: "GBP", base: "USD", barSize: "1 min", whats: ["MIDPOINT"],
                                                         span: TimeSpan(day, day + 60), store: store))
        #expect(gbp.rate(at: day) == 1.27)

        // Another bar size, or nothing at all: no rates (never 1:1).
        #expect(try await RateSeries.load(currency: "JPY", base: "USD", barSize: "5 mins", whats: ["MIDPOINT"], span: TimeSpan(day, day + 180),
                                          store: store) == nil)
        #expect(try await RateSeries.load(currency: "CHF", base: "USD", barSize: "1 min", whats: ["MIDPOINT"], span: TimeSpan(day, day + 180),
                                          store: store) == nil)
        try? FileManager.default.removeItem(at: folder)
    }
}
