import Testing
@testable import Money

@Suite struct CommissionScheduleTests {
    let stock = InstrumentTerms()

    @Test func stocksFixedAndTiered() {
        #expect(CommissionSchedule.ibFixed.charge(stock, quantity: 100, price: 100).amount == 1.0)   // 0.50 → the 1.00 minimum
        #expect(CommissionSchedule.ibFixed.charge(stock, quantity: 1_000, price: 100).amount == 5.0)
        #expect(CommissionSchedule.ibFixed.charge(stock, quantity: 10, price: 1).amount == 0.1)      // 1 % of 10.00
        #expect(CommissionSchedule.ibTiered.charge(stock, quantity: 100, price: 100).amount == 0.35)
        #expect(CommissionSchedule.ibTiered.charge(stock, quantity: 1_000, price: 100).amount == 3.5)
        #expect(CommissionSchedule.none.charge(stock, quantity: 1_000, price: 100).amount == 0)
        #expect(CommissionSchedule.perUnit(0.01).charge(stock, quantity: 1_000, price: 100).amount == 10)
    }

    @Test func theMinimumIsPerOrderAcrossPartialFills() {
        // 100 then 300 of one order: 1.00 for the first (minimum), then 2.00 - 1.00 paid = 1.00.
        let first = CommissionSchedule.ibFixed.charge(stock, quantity: 100, price: 187)
        #expect(first.amount == 1)
        let second = CommissionSchedule.ibFixed.charge(stock, quantity: 300, price: 187,
                                                       before: OrderSoFar(quantity: 100, value: 18_700, paid: 1))
        #expect(second.amount == 1)
    }

    @Test func optionsFuturesForexAsIBPublishesThem() {
        let option = InstrumentTerms(secType: "OPT", multiplier: 100)
        #expect(CommissionSchedule.ibFixed.charge(option, quantity: 1, price: 2.50).amount == 1.00)   // 0.65, minimum 1.00 (the backtest said 0.03)
        #expect(CommissionSchedule.ibFixed.charge(option, quantity: 10, price: 2.50).amount == 6.50)
        #expect(CommissionSchedule.ibFixed.charge(option, quantity: 10, price: 0.07).amount == 5.00)  // 0.50 under 0.10 premium
        let es = InstrumentTerms(secType: "FUT", multiplier: 50)
        #expect(CommissionSchedule.ibFixed.charge(es, quantity: 1, price: 5_450).amount == 0.85)      // the backtest said 1.00
        let eurusd = InstrumentTerms(secType: "CASH", currency: "USD", pairBase: "EUR")
        // 20,000 EUR at 1.085 is 21,700 USD; 0.2 bp is 0.43: the 2.00 USD minimum (the backtest said 100.00).
        #expect(CommissionSchedule.ibFixed.charge(eurusd, quantity: 20_000, price: 1.085) == Commission(amount: 2, currency: "USD"))
        // 10 M EUR: 0.2 bp of 10.85 M USD is 217.00.
        #expect(CommissionSchedule.ibFixed.charge(eurusd, quantity: 10_000_000, price: 1.085).amount == 217)
    }

    @Test func theStockCapCountsTheMultiplier() {
        // A stock-like instrument with a multiplier of 100: 1 unit at 0.50 is worth 50.00, so
        // the 1 % cap is 0.50 (the backtest capped at 1 % of 0.50).
        let big = InstrumentTerms(secType: "STK", multiplier: 100)
        #expect(CommissionSchedule.ibFixed.charge(big, quantity: 1, price: 0.5).amount == 0.5)
    }

    @Test func parsingNamesAndRejects() {
        #expect(CommissionSchedule(parsing: "ib-fixed") == .ibFixed)
        #expect(CommissionSchedule(parsing: "ib-tiered") == .ibTiered)
        #expect(CommissionSchedule(parsing: "none") == CommissionSchedule.none)
        #expect(CommissionSchedule(parsing: "per-unit:0.01") == .perUnit(0.01))
        for bad in ["per-unit:nan", "per-unit:inf", "per-unit:-1", "per-unit:1e300", "bogus", ""] {
            #expect(CommissionSchedule(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func anInstrumentInAnotherCurrencyIsChargedIBsDollarAmounts() {
        // 100 shares of a JPY stock at 2,000 JPY (13.33 USD at 150): the 1.00 minimum is a
        // dollar, charged in USD; without a rate to value it, in yen as before.
        let toyota = InstrumentTerms(secType: "STK", currency: "JPY")
        var rates = CurrencyRates(base: "USD")
        rates.learn(pairBase: "USD", quote: "JPY", price: 150)
        #expect(CommissionSchedule.ibFixed.charge(toyota, quantity: 100, price: 2_000, rates: rates) == Commission(amount: 1, currency: "USD"))
        // 10,000 shares: 50.00 USD (0.005 a share), under 1 % of 133,333 USD.
        #expect(CommissionSchedule.ibFixed.charge(toyota, quantity: 10_000, price: 2_000, rates: rates) == Commission(amount: 50, currency: "USD"))
        #expect(CommissionSchedule.ibFixed.charge(toyota, quantity: 100, price: 2_000).currency == "JPY")
        // With a EUR base the dollar is reached through the rates too.
        var eurBase = CurrencyRates(base: "EUR")
        eurBase.set("USD", toBase: 0.9)
        eurBase.set("JPY", toBase: 0.006)
        #expect(CommissionSchedule.ibFixed.charge(toyota, quantity: 100, price: 2_000, rates: eurBase).currency == "USD")
        // A flat per-unit rate is the user's own, in the instrument's currency.
        #expect(CommissionSchedule.perUnit(1).charge(toyota, quantity: 100, price: 2_000, rates: rates) == Commission(amount: 100, currency: "JPY"))
    }
}
