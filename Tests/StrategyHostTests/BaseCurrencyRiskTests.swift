import Foundation
import Money
import Testing
@testable import StrategyHost
import TWSProtocol
@testable import TradingState

/// Risk limits that mean the same on every instrument: quantities per instrument type (shares,
/// contracts, units of a pair's base currency), amounts in the account's base currency with the
/// multiplier, and no amount ever counted 1:1 from a currency without a rate.
@Suite("Risk limits per instrument type, in the base currency")
struct BaseCurrencyRiskTests {
    /// USD base; 1 EUR = 1.085 USD; 1 JPY = 1/150 USD.
    static let rates: CurrencyRates = {
        var rates = CurrencyRates(base: "USD")
        rates.set("EUR", toBase: 1.085)
        rates.set("JPY", toBase: 1.0 / 150)
        return rates
    }()

    static func forex(_ pair: String) -> InstrumentTerms {
        let parts = pair.split(separator: ".").map(String.init)
        return InstrumentTerms(secType: "CASH", currency: parts[1], pairBase: parts[0])
    }
    static let es = InstrumentTerms(secType: "FUT", currency: "USD", multiplier: 50)
    static let option = InstrumentTerms(secType: "OPT", currency: "USD", multiplier: 100)

    /// The default gate's verdict on one order from a flat position.
    func verdict(_ symbol: String, _ quantity: Double, at price: Double, _ terms: InstrumentTerms, buy: Bool = true,
                 limits: RiskLimits = RiskLimits(), rates: CurrencyRates = rates) -> RiskRefusal?
    {
        var gate = RiskGate(limits: limits)
        return gate.check(OrderIntent(symbol: symbol, buy: buy, quantity: quantity, referencePrice: price, terms: terms),
                          exposure: Exposure(position: 0), openOrders: 0, now: 0, rates: rates)
    }

    @Test("ordinary sizes pass the defaults on every type: 20,000 and 25,000 EUR.USD, 1 ES (272,500 USD), 1 option, 300 AAPL")
    func ordinarySizesPass() {
        #expect(verdict("EUR.USD", 20_000, at: 1.085, Self.forex("EUR.USD")) == nil, "about 21,700 USD")
        #expect(verdict("EUR.USD", 25_000, at: 1.085, Self.forex("EUR.USD")) == nil)
        #expect(verdict("ES 202612", 1, at: 5_450, Self.es) == nil, "1 × 5450 × 50 = 272,500 USD")
        #expect(verdict("AAPL 20261218 C 190", 1, at: 2.5, Self.option) == nil, "250 USD of premium")
        #expect(verdict("AAPL", 300, at: 190, InstrumentTerms()) == nil)
    }

    @Test("fat fingers stop, and the refusal names the unit: 1,000,001 EUR, 11 contracts, 101 options, 1,001 shares")
    func fatFingersNameTheUnit() {
        let eur = verdict("EUR.USD", 1_000_001, at: 1.085, Self.forex("EUR.USD"))
        #expect(eur?.code == "max_order_quantity")
        #expect(eur?.message == "risk: 1000001 EUR exceeds risk.max_order_quantity.CASH 1000000", "\(String(describing: eur))")
        let es = verdict("ES 202612", 11, at: 5_450, Self.es)
        #expect(es?.message == "risk: 11 contracts exceeds risk.max_order_quantity.FUT 10", "\(String(describing: es))")
        let options = verdict("AAPL 20261218 C 190", 101, at: 2.5, Self.option)
        #expect(options?.message == "risk: 101 contracts exceeds risk.max_order_quantity.OPT 100", "\(String(describing: options))")
        let shares = verdict("AAPL", 1_001, at: 190, InstrumentTerms())
        #expect(shares?.message == "risk: 1001 shares exceeds risk.max_order_quantity.STK 1000", "\(String(describing: shares))")
        // 2 ES (545,000 USD: a 1-contract reversal) pass; 4 are 1,090,000 USD: past the notional
        // limit, named in the base currency.
        #expect(verdict("ES 202612", 2, at: 5_450, Self.es) == nil)
        let four = verdict("ES 202612", 4, at: 5_450, Self.es)
        #expect(four?.code == "max_order_notional")
        #expect(four?.message == "risk: notional 1,090,000 USD exceeds risk.max_order_notional 1,000,000 USD", "\(String(describing: four))")
    }

    @Test("USD.JPY and a JPY stock are valued in USD: 300,000 USD.JPY at 150 (45 M JPY) is 300,000 USD; 160 M JPY is 1.07 M USD")
    func yenCountedInBase() {
        // 45,000,000 JPY × 1/150 = 300,000 USD: within 1,000,000.
        #expect(verdict("USD.JPY", 300_000, at: 150, Self.forex("USD.JPY")) == nil)
        // 8,000 shares of a JPY stock at 20,000 JPY: 160,000,000 JPY = 1,066,667 USD: refused, in
        // USD, with the JPY amount beside it (counted 1:1 it was 160 M).
        var wide = RiskLimits()
        wide.maxOrderQuantity = TypeLimits(10_000)
        wide.maxPosition = TypeLimits(10_000)
        let big = verdict("7203", 8_000, at: 20_000, InstrumentTerms(currency: "JPY"), limits: wide)
        #expect(big?.code == "max_order_notional")
        #expect(big?.message == "risk: notional 1,066,666.67 USD (160,000,000 JPY) exceeds risk.max_order_notional 1,000,000 USD",
                "\(String(describing: big))")
        // 100 shares at 3,000 JPY = 300,000 JPY = 2,000 USD (counted 1:1 it was 3 × the old 100,000 limit).
        var limits = RiskLimits()
        limits.maxOrderNotional = 100_000
        #expect(verdict("7203", 100, at: 3_000, InstrumentTerms(currency: "JPY"), limits: limits) == nil)
        // The position limit in base as well: 5 M JPY of shares held + 1 M more = 40,000 USD.
        limits.maxPositionNotional = 30_000
        limits.maxPosition = 10_000  // shares are not what stops it here
        var gate = RiskGate(limits: limits)
        let position = gate.check(OrderIntent(symbol: "7203", buy: true, quantity: 1_000, referencePrice: 1_000, terms: InstrumentTerms(currency: "JPY")),
                                  exposure: Exposure(position: 5_000), openOrders: 0, now: 0, rates: Self.rates)
        #expect(position?.code == "max_position_notional")
        #expect(position?.message.contains("40,000 USD") == true && position?.message.contains("30,000 USD") == true, "\(String(describing: position))")
    }

    @Test("max_position_notional follows max_order_notional unless set: twice it")
    func positionNotionalDefault() {
        var limits = RiskLimits()
        limits.maxOrderNotional = 100_000
        var gate = RiskGate(limits: limits)
        // 900 held + 200 at 190: 1,100 × 190 = 209,000 USD, past 200,000 (the order alone is 38,000).
        let refusal = gate.check(OrderIntent(symbol: "AAPL", buy: true, quantity: 200, referencePrice: 190), exposure: Exposure(position: 900),
                                 openOrders: 0, now: 0, rates: Self.rates)
        #expect(refusal?.message == "risk: the position in AAPL could reach 1100 shares, 209,000 USD at 190, beyond risk.max_position_notional "
            + "200,000 USD (twice risk.max_order_notional)", "\(String(describing: refusal))")
        // Raising the order limit raises the position's with it (5 M per order: 3,000 MSFT at 415 pass).
        limits.maxOrderNotional = 5_000_000
        limits.maxPosition = 5_000
        limits.maxOrderQuantity = 5_000
        gate = RiskGate(limits: limits)
        #expect(gate.check(OrderIntent(symbol: "MSFT", buy: true, quantity: 3_000, referencePrice: 415), exposure: Exposure(position: 0),
                           openOrders: 0, now: 0, rates: Self.rates) == nil)
        // Selling down never trips it.
        #expect(gate.check(OrderIntent(symbol: "MSFT", buy: false, quantity: 10, referencePrice: 415), exposure: Exposure(position: 20_000),
                           openOrders: 0, now: 0, rates: Self.rates)?.code != "max_position_notional")
    }

    @Test("an order in a currency without a rate is refused with no_rate naming it, never counted 1:1")
    func noRateRefused() {
        let refusal = verdict("7203", 1, at: 3_000, InstrumentTerms(currency: "JPY"), rates: CurrencyRates(base: "USD"))
        #expect(refusal?.code == "no_rate")
        #expect(refusal?.message.hasPrefix("risk: no exchange rate for JPY yet") == true, "\(String(describing: refusal))")
        // A cross whose quote currency has no rate: CHF.
        let cross = verdict("GBP.CHF", 1_000, at: 1.1, Self.forex("GBP.CHF"))
        #expect(cross?.code == "no_rate" && cross?.message.contains("CHF") == true, "\(String(describing: cross))")
        // A EUR-based account values a USD stock through its USD rate.
        var eurBase = CurrencyRates(base: "EUR")
        #expect(verdict("AAPL", 10, at: 190, InstrumentTerms(), rates: eurBase)?.code == "no_rate")
        eurBase.set("USD", toBase: 0.92)
        var limits = RiskLimits()
        limits.maxOrderNotional = 1_000
        let eur = verdict("AAPL", 10, at: 190, InstrumentTerms(), limits: limits, rates: eurBase)
        #expect(eur?.message == "risk: notional 1,748 EUR (1,900 USD) exceeds risk.max_order_notional 1,000 EUR", "\(String(describing: eur))")
    }

    @Test("max_position per type: 21 ES contracts refused, 2,000,000 EUR held + 1 refused naming EUR")
    func positionPerType() {
        var gate = RiskGate(limits: RiskLimits())
        let es = gate.check(OrderIntent(symbol: "ES 202612", buy: true, quantity: 2, referencePrice: 5_450, terms: Self.es),
                            exposure: Exposure(position: 19), openOrders: 0, now: 0, rates: Self.rates)
        #expect(es?.code == "max_position")
        #expect(es?.message == "risk: the position in ES 202612 could reach 21 contracts (19 held), beyond risk.max_position.FUT 20",
                "\(String(describing: es))")
        let eur = gate.check(OrderIntent(symbol: "EUR.USD", buy: false, quantity: 1, referencePrice: 1.085, terms: Self.forex("EUR.USD")),
                             exposure: Exposure(position: -2_000_000), openOrders: 0, now: 0, rates: Self.rates)
        #expect(eur?.message.contains("-2000001 EUR") == true && eur?.message.contains("risk.max_position.CASH 2000000") == true,
                "\(String(describing: eur))")
    }

    @Test("the daily loss limit names the base currency")
    func dailyLossInBase() {
        var gate = RiskGate(limits: RiskLimits())
        let halted = gate.checkLoss(-5_001, currency: "USD")
        #expect(halted)
        #expect(gate.halted == "daily loss 5001 USD beyond risk.max_daily_loss 5000 USD")
    }

    @Test("the account's position limit per type, from the contract or read from the key")
    func accountGatePerType() {
        var gate = AccountGate(limits: AccountLimits())
        #expect(gate.check(symbol: "EUR.USD", buy: true, quantity: 25_000, now: 0, terms: Self.forex("EUR.USD")) == nil)
        #expect(gate.check(symbol: "EUR.USD", buy: true, quantity: 25_000, now: 0) == nil, "forex read from the key")
        let es = gate.check(symbol: "ES 202612", buy: true, quantity: 101, now: 0, terms: Self.es)
        #expect(es?.code == "account_max_position")
        #expect(es?.message.contains("101 contracts") == true && es?.message.contains("account_risk.max_position.FUT 100") == true,
                "\(String(describing: es))")
        #expect(gate.check(symbol: "ES 202612", buy: true, quantity: 101, now: 0)?.code == "account_max_position", "a future read from the key")
        #expect(gate.check(symbol: "AAPL", buy: true, quantity: 10_001, now: 0)?.message.contains("10001 shares") == true)
    }

    @Test("a contract's terms: type, currency, multiplier, and the pair's base for forex")
    func contractTerms() throws {
        var es = Contract(symbol: "ES", secType: "FUT", exchange: "CME", currency: "USD")
        es.multiplier = "50"
        #expect(es.terms == InstrumentTerms(secType: "FUT", currency: "USD", multiplier: 50))
        let pair = try InstrumentSpec.parse("USD.JPY").contract.terms
        #expect(pair == InstrumentTerms(secType: "CASH", currency: "JPY", multiplier: 1, pairBase: "USD"))
        #expect(pair.quantityUnit == "USD")
        #expect(Contract(symbol: "AAPL").terms.quantityUnit == "shares")
    }

    // MARK: Config

    @Test("a quantity limit is one number for every type, or a mapping by type over the defaults")
    func configMapping() throws {
        let scalar = try HostConfig.load(yaml: "risk:\n  max_order_quantity: 5\n  max_position: 7\n", source: "c.yaml")
        for type in TypeLimits.types {
            #expect(scalar.risk.maxOrderQuantity[type] == 5 && scalar.risk.maxPosition[type] == 7, "\(type)")
        }
        let mapped = try HostConfig.load(yaml: """
            risk:
              max_order_quantity: { CASH: 10000, fut: 2 }
              max_position_notional: 250000
            account_risk:
              max_position: { STK: 500 }
            strategies:
              - file: a.lua
                risk: { max_order_quantity: { STK: 3 } }
            """, source: "c.yaml")
        #expect(mapped.risk.maxOrderQuantity["CASH"] == 10_000 && mapped.risk.maxOrderQuantity["FUT"] == 2)
        #expect(mapped.risk.maxOrderQuantity["STK"] == 1_000 && mapped.risk.maxOrderQuantity["OPT"] == 100, "types not named keep their defaults")
        #expect(mapped.risk.maxPositionNotional == 250_000)
        #expect(mapped.accountRisk.maxPosition["STK"] == 500 && mapped.accountRisk.maxPosition["CASH"] == 10_000_000)
        let strategy = try #require(mapped.strategies.first?.risk)
        #expect(strategy.maxOrderQuantity["STK"] == 3 && strategy.maxOrderQuantity["CASH"] == 10_000, "over risk:")
        // The refusal then names the configured limit.
        var gate = RiskGate(limits: mapped.risk)
        let refusal = gate.check(OrderIntent(symbol: "EUR.USD", buy: true, quantity: 20_000, referencePrice: 1.085, terms: Self.forex("EUR.USD")),
                                 exposure: Exposure(position: 0), openOrders: 0, now: 0, rates: Self.rates)
        #expect(refusal?.message == "risk: 20000 EUR exceeds risk.max_order_quantity.CASH 10000")
    }

    @Test("a mapping naming a type Moonwire does not trade, a bad value per type, or a type twice is refused by name")
    func configMappingRefused() {
        func error(_ yaml: String) -> String {
            do {
                _ = try HostConfig.load(yaml: yaml, source: "c.yaml")
                return "accepted"
            } catch { return "\(error)" }
        }
        #expect(error("risk:\n  max_order_quantity: { STK: 10, CFD: 5 }\n")
            == "c.yaml: risk.max_order_quantity.CFD is not an instrument type (known: STK, FUT, OPT, FOP, CASH)")
        #expect(error("account_risk:\n  max_position: { BOND: 5 }\n").hasPrefix("c.yaml: account_risk.max_position.BOND is not an instrument type"))
        #expect(error("strategies:\n  - file: a.lua\n    risk: { max_position: { WAR: 1 } }\n")
            .hasPrefix("c.yaml: strategies[0].risk.max_position.WAR is not an instrument type"))
        #expect(error("risk:\n  max_order_quantity: { FUT: .inf }\n") == "c.yaml: risk.max_order_quantity.FUT must be a finite number, got inf")
        #expect(error("risk:\n  max_order_quantity: { FUT: lots }\n") == "c.yaml: risk.max_order_quantity.FUT should be a number, got 'lots'")
        #expect(error("risk:\n  max_position: { FUT: -1 }\n").hasPrefix("c.yaml: risk.max_position.FUT: must be positive"))
        #expect(error("risk:\n  max_position: { FUT: 1, fut: 2 }\n") == "c.yaml: risk.max_position names FUT twice")
        #expect(error("risk:\n  max_order_quantity: [1, 2]\n").hasPrefix("c.yaml: risk.max_order_quantity should be a number, or a mapping by instrument type"))
        #expect(error("risk:\n  max_order_quantity: 0\n").hasPrefix("c.yaml: risk.max_order_quantity: must be positive"))
        #expect(error("risk:\n  max_position_notional: 1e300\n").hasPrefix("c.yaml: risk.max_position_notional: must be positive"))
    }

    @Test("amounts in refusals: grouped, cents only when there are any, never a trap")
    func amounts() {
        #expect(RiskGate.amount(272_500, "USD") == "272,500 USD")
        #expect(RiskGate.amount(21_712.5, "USD") == "21,712.50 USD")
        #expect(RiskGate.amount(-1_234_567.891, "EUR") == "-1,234,567.89 EUR")
        #expect(RiskGate.amount(999, "JPY") == "999 JPY")
        #expect(RiskGate.amount(.infinity, "USD") == "inf USD")
        #expect(RiskGate.amount(1e300, "USD") == "1e+300 USD")
    }
}
