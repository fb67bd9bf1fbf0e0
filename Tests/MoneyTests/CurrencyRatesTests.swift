import Testing
@testable import Money

@Suite struct CurrencyRatesTests {
    @Test func pairsAgainstTheBaseAndCrosses() {
        var rates = CurrencyRates(base: "USD")
        rates.learn(pairBase: "EUR", quote: "USD", price: 1.08)   // EUR = 1.08 USD
        rates.learn(pairBase: "USD", quote: "JPY", price: 150)    // JPY = 1/150 USD
        rates.learn(pairBase: "GBP", quote: "JPY", price: 190)    // GBP = 190 JPY = 1.2667 USD
        rates.learn(pairBase: "EUR", quote: "CHF", price: 0.95)   // CHF = 1.08 / 0.95 USD
        #expect(rates.rate("EUR") == 1.08)
        #expect(abs(rates.rate("JPY")! - 1.0 / 150) < 1e-15)
        #expect(abs(rates.rate("GBP")! - 190.0 / 150) < 1e-12)
        #expect(abs(rates.rate("CHF")! - 1.08 / 0.95) < 1e-12)
        #expect(rates.rate("usd") == 1)
        #expect(rates.rate("AUD") == nil)
        #expect(abs(rates.convert(100, from: "JPY", to: "EUR")! - 100.0 / 150 / 1.08) < 1e-12)
    }

    @Test func badRatesAreIgnoredNeverZeroOrInfinite() {
        var rates = CurrencyRates(base: "USD")
        for bad in [0.0, -1, .nan, .infinity, -.infinity] {
            rates.set("EUR", toBase: bad)
            rates.learn(pairBase: "USD", quote: "JPY", price: bad)
        }
        #expect(rates.rate("EUR") == nil)
        #expect(rates.rate("JPY") == nil)
        rates.set("USD", toBase: 2)  // the base is 1, always
        #expect(rates.rate("USD") == 1)
    }
}
