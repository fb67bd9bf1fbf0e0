import Money
import TWSProtocol

/// What an instrument's bars are worth in money, kept in the bar store beside its bars: what
/// TWS answered when they were downloaded, or what `history import` was told. A backtest over
/// stored bars builds its instrument from it, so the same bars give the same money offline
/// (no connection) and online (ES counts 50 a point either way).
public struct StoredInstrument: Sendable, Hashable {
    /// The instrument key the bars are stored under (`AAPL`, `ES 202612`, `EUR.USD`).
    public var key: String
    /// IB's security type: STK, FUT, CASH, OPT, IND, ...
    public var secType: String
    /// The currency prices are quoted in (JPY for USD.JPY).
    public var currency: String
    /// Where TWS routes it (SMART, CME, IDEALPRO); may be empty.
    public var exchange: String
    /// Contract size: 50 for ES, 100 for an equity option, 1 otherwise.
    public var multiplier: Double
    /// The minimum price step (TWS's minTick).
    public var tick: Double
    /// TWS's trading hours (`20240102:0930-20240102:1600;...`); empty when not known.
    public var tradingHours: String
    /// TWS's liquid hours: the regular session, what a day bar covers (same form); empty when
    /// not known. `history import --session 09:30-16:00` stores it as one day's listing, which
    /// the calendar carries to every day.
    public var liquidHours: String
    /// The time zone the hours are in, as TWS names it (`US/Eastern`) or IANA's
    /// (`America/New_York`); empty when not known (a backtest then cuts days at UTC midnight).
    public var timeZone: String
    /// A forex pair's base currency (EUR for EUR.USD); nil for anything else.
    public var pairBase: String?

    public init(key: String, secType: String, currency: String, exchange: String = "", multiplier: Double = 1, tick: Double = 0.01,
                tradingHours: String = "", liquidHours: String = "", timeZone: String = "", pairBase: String? = nil)
    {
        self.key = key
        self.secType = secType.uppercased()
        self.currency = currency.uppercased()
        self.exchange = exchange.uppercased()
        self.multiplier = multiplier
        self.tick = tick
        self.tradingHours = tradingHours
        self.liquidHours = liquidHours
        self.timeZone = timeZone
        self.pairBase = pairBase.map { $0.uppercased() }
    }

    /// What TWS answered for `key`: the resolved contract and its details (a forex pair's
    /// base is its symbol; a multiplier TWS leaves empty is 1).
    public init(key: String, contract: Contract, details: ContractDetails) {
        let multiplier = Double(contract.multiplier).flatMap { $0.isFinite && $0 > 0 ? $0 : nil } ?? 1
        let secType = contract.secType.uppercased()
        self.init(key: key, secType: secType, currency: contract.currency, exchange: contract.exchange, multiplier: multiplier,
                  tick: details.minTick, tradingHours: details.tradingHours, liquidHours: details.liquidHours, timeZone: details.timeZoneId,
                  pairBase: secType == "CASH" ? contract.symbol : nil)
    }

    /// The bounds `validate` holds a multiplier and a tick to (an option's 100, a bond's 0.0001
    /// and a Nikkei future's 1000 fit; 1e300 does not).
    public static let multipliers: ClosedRange<Double> = 1e-6...1_000_000
    public static let ticks: ClosedRange<Double> = 1e-9...10_000

    /// Why these details cannot be stored (a multiplier or tick that is not a positive finite
    /// number in bounds, a currency that is not three letters, text too long), or nil.
    public var problem: String? {
        guard multiplier.isFinite, Self.multipliers.contains(multiplier) else { return "multiplier \(multiplier) is not between 0.000001 and 1000000" }
        guard tick.isFinite, Self.ticks.contains(tick) else { return "tick \(tick) is not between 0.000000001 and 10000" }
        guard !secType.isEmpty, secType.count <= 8, secType.allSatisfy({ $0.isASCII && $0.isLetter }) else { return "sec type '\(secType)' is not IB's (STK, FUT, CASH, ...)" }
        guard Self.isCurrency(currency) else { return "currency '\(currency)' is not three letters" }
        if let pairBase, !Self.isCurrency(pairBase) { return "pair base '\(pairBase)' is not three letters" }
        guard exchange.count <= 32, exchange.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            return "exchange '\(exchange)' is not an exchange's name"
        }
        guard !key.isEmpty, key.utf8.count <= 200 else { return "instrument key '\(key)' is empty or too long" }
        guard tradingHours.utf8.count <= 100_000 else { return "trading hours are longer than 100000 bytes" }
        guard liquidHours.utf8.count <= 100_000 else { return "liquid hours are longer than 100000 bytes" }
        guard timeZone.utf8.count <= 64, timeZone.allSatisfy({ $0.isASCII && !$0.isNewline }) else {
            return "time zone '\(timeZone)' is not a time zone's name"
        }
        return nil
    }

    /// Throws `InvalidInstrumentDetails` naming the `problem`, if there is one.
    public func validate() throws {
        if let problem { throw InvalidInstrumentDetails(description: "\(key): \(problem)") }
    }

    static func isCurrency(_ text: String) -> Bool { text.count == 3 && text.allSatisfy { $0.isASCII && $0.isLetter } }

    /// What money rules need of it.
    public var terms: InstrumentTerms {
        InstrumentTerms(secType: secType, currency: currency, multiplier: multiplier, pairBase: pairBase)
    }

    /// The fields that change money (sec type, currency, multiplier, tick, pair base) where
    /// `other` says otherwise, each as `multiplier 50 (stored) vs 1`; empty when they agree.
    /// The exchange, the hours and the time zone are not money: a new answer simply replaces them.
    public func moneyDifferences(from other: StoredInstrument, mine: String = "stored", theirs: String = "new") -> [String] {
        var out: [String] = []
        func compare(_ name: String, _ a: String, _ b: String) {
            if a != b { out.append("\(name) \(a.isEmpty ? "(none)" : a) (\(mine)) vs \(b.isEmpty ? "(none)" : b) (\(theirs))") }
        }
        compare("sec type", secType, other.secType)
        compare("currency", currency, other.currency)
        compare("multiplier", Self.number(multiplier), Self.number(other.multiplier))
        compare("tick", Self.number(tick), Self.number(other.tick))
        compare("pair base", pairBase ?? "", other.pairBase ?? "")
        return out
    }

    /// `50`, `0.25`, `0.00005` as a person writes them (never `5e-05`), for messages.
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return String(value) }
        if value.rounded() == value && abs(value) < 1e15 { return String(Int64(value)) }
        guard abs(value) >= 1e-12, abs(value) < 1e15 else { return String(value) }
        var text = String(format: "%.12f", value)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }

    /// A contract's `multiplier` field: exact (Swift's shortest form that reads back the same).
    public static func multiplierField(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

/// Details a store refuses to keep (see `StoredInstrument.problem`).
public struct InvalidInstrumentDetails: Error, CustomStringConvertible {
    public let description: String
}
