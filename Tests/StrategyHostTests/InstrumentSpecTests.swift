import LuaRuntime
import Testing
@testable import StrategyHost
import TWSProtocol
import TradingState

/// The instrument grammar: every form names the contract TWS is asked for, and every key is
/// what TWS's own description of that contract comes back as.
@Suite("Instrument specs")
struct InstrumentSpecTests {
    @Test("strings: stock, forex, future by month or day, continuous future, option, index")
    func strings() throws {
        let cases: [(String, String, String)] = [
            ("aapl", "AAPL", "STK"), ("BRK B", "BRK B", "STK"), ("eur.usd", "EUR.USD", "CASH"), ("ES 202612", "ES 202612", "FUT"),
            ("ES 20261218", "ES 202612", "FUT"), ("es cont", "ES CONT", "CONTFUT"), ("AAPL 20261218 C 190", "AAPL 20261218 C 190", "OPT"),
            ("AAPL 20261218 p 187.5", "AAPL 20261218 P 187.5", "OPT"), ("^spx", "^SPX", "IND"),
        ]
        for (text, key, type) in cases {
            let spec = try InstrumentSpec.parse(text)
            #expect(spec.key == key, "\(text)")
            #expect(spec.contract.secType == type, "\(text)")
        }
        let forex = try InstrumentSpec.parse("EUR.USD").contract
        #expect(forex.symbol == "EUR" && forex.currency == "USD" && forex.exchange == "IDEALPRO")
        for bad in ["", "AAPL 2026", "ES 2026121", "AAPL 20261218 X 190", "A B C", "^", "THIS IS NOT ONE AT ALL"] {
            #expect(throws: InstrumentSpecError.self, "\(bad)") { try InstrumentSpec.parse(bad) }
        }
    }

    @Test("tables name everything; the key is the same as the string form's")
    func tables() throws {
        let future = try InstrumentSpec.from(table: .record(["symbol": .string("es"), "type": .string("FUT"), "expiry": .string("202612"),
                                                             "exchange": .string("CME")]), call: "t", parameter: "p")
        #expect(future.key == "ES 202612" && future.contract.exchange == "CME")
        let option = try InstrumentSpec.from(table: .record(["symbol": .string("AAPL"), "type": .string("OPT"), "expiry": .string("20261218"),
                                                             "strike": .number(190), "right": .string("C")]), call: "t", parameter: "p")
        #expect(option.key == "AAPL 20261218 C 190")
        #expect(throws: LuaArgumentError.self) {
            try InstrumentSpec.from(table: .record(["symbol": .string("AAPL"), "type": .string("OPT")]), call: "t", parameter: "p")
        }
        #expect(throws: LuaArgumentError.self) {
            try InstrumentSpec.from(table: .record(["symbol": .string("AAPL"), "type": .string("BOND")]), call: "t", parameter: "p")
        }
    }

    @Test("TWS's contracts come back under the keys strategies use")
    func keysOfTWSContracts() {
        var future = Contract(symbol: "ES", secType: "FUT", exchange: "CME", currency: "USD")
        future.lastTradeDateOrContractMonth = "20261218"
        future.multiplier = "50"
        #expect(future.instrumentKey == "ES 202612" && future.size == 50)
        let forex = Contract(symbol: "EUR", secType: "CASH", exchange: "IDEALPRO", currency: "USD")
        #expect(forex.instrumentKey == "EUR.USD" && forex.size == 1)
        var option = Contract(symbol: "AAPL", secType: "OPT", exchange: "SMART", currency: "USD")
        option.lastTradeDateOrContractMonth = "20261218"
        option.strike = 190
        option.right = "C"
        #expect(option.instrumentKey == "AAPL 20261218 C 190")
        #expect(Contract(symbol: "SPX", secType: "IND", exchange: "CBOE").instrumentKey == "^SPX")
        #expect(Contract(symbol: "AAPL").instrumentKey == "AAPL")
    }
}
