import Foundation
import Testing
import TWSProtocol
@testable import TradingState

/// TWS sends a value once per currency held and once as the total in base (currency BASE),
/// in no promised order: the total keeps the plain key, each currency its own, so a strategy
/// never reads the yen balance as its cash.
@Suite("TradingState: account values per currency", .serialized)
struct AccountValueCurrencyTests {
    @Test("BASE rows keep the plain key; other currencies theirs, whatever the order")
    func perCurrencyRows() async throws {
        try await TradingStateTests().withRig { rig in
            let rows: [(String, String, String)] = [
                ("CashBalance", "1000000.00", "BASE"), ("CashBalance", "-3000000", "JPY"), ("CashBalance", "980000.00", "USD"),
                ("NetLiquidation", "1000132.45", "USD"), ("ExchangeRate", "1.00", "BASE"), ("ExchangeRate", "0.0066", "JPY"),
                ("TotalCashValue", "20000.00", "JPY"), ("TotalCashValue", "999996.00", "BASE"),
            ]
            try await rig.client.eventLoop.submit {
                for (key, value, currency) in rows {
                    rig.state.handle(.updateAccountValue(UpdateAccountValue(key: key, value: value, currency: currency, accountName: "DU9")))
                }
            }.get()
            let values = try #require(await rig.state.snapshot().accountValues["DU9"])
            #expect(values["CashBalance"] == "1000000.00")        // BASE, not the USD or the JPY row
            #expect(values["CashBalance.JPY"] == "-3000000")
            #expect(values["CashBalance.USD"] == "980000.00")
            #expect(values["NetLiquidation"] == "1000132.45")     // sent only in the base currency
            #expect(values["TotalCashValue"] == "999996.00")      // the BASE row came after the JPY one
            #expect(values["TotalCashValue.JPY"] == "20000.00")
            #expect(values["ExchangeRate.JPY"] == "0.0066")
            #expect(abs((rig.state.rates.rate("JPY") ?? 0) - 0.0066) < 1e-12)
        }
    }
}
