import Money
import Foundation
import LuaRuntime
import TWSProtocol
import TradingState

/// An instrument as a strategy names it: a string for the common cases, a table for
/// everything. `key` is the name every table the strategy receives carries back
/// (`Contract.instrumentKey`); `contract` is what TWS is asked to resolve.
///
/// Strings: `AAPL` (a US stock, SMART, USD), `EUR.USD` (forex on IDEALPRO), `ES 202612` or
/// `ES 20261218` (a future by month or day), `ES CONT` (the continuous future: quotes and
/// history only), `AAPL 20261218 C 200` (an option: expiry, C or P, strike), `^SPX` (an index).
/// Tables: `{ symbol =, type = "STK"|"FUT"|"CASH"|"IND"|"OPT"|"CONTFUT", exchange =,
/// currency =, expiry =, strike =, right =, multiplier =, con_id = }`.
public struct InstrumentSpec: Sendable, Hashable {
    public var key: String
    public var contract: Contract

    public init(contract: Contract) {
        self.contract = contract
        key = contract.instrumentKey
    }

    public static let grammar = "AAPL, EUR.USD, ES 202612, ES CONT, AAPL 20261218 C 200, ^SPX, or a table { symbol =, type =, ... }"

    /// Parses the string form; throws `InstrumentSpecError` naming what does not fit.
    public static func parse(_ text: String) throws -> InstrumentSpec {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        // The text as a message shows it: escaped, and not whole when long.
        let shown = LuaChecked.excerpt(text)
        guard !trimmed.isEmpty, trimmed.count <= 40 else { throw InstrumentSpecError("\(shown) is not an instrument (\(grammar))") }
        let parts = trimmed.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        // ASCII only: TWS and the journal take nothing else ("ÄPFEL" or Arabic digits would be
        // refused by the journal after an id was taken).
        func isTicker(_ word: String) -> Bool {
            !word.isEmpty && word.count <= 12 && word.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }
        }
        func digits(_ word: String, _ counts: Set<Int>) -> Bool { counts.contains(word.count) && word.allSatisfy { $0.isASCII && $0.isNumber } }
        var contract = Contract()
        if parts.count == 1, trimmed.hasPrefix("^"), isTicker(String(trimmed.dropFirst())) {
            contract.symbol = String(trimmed.dropFirst())
            contract.secType = "IND"
        } else if parts.count == 1, trimmed.count == 7, trimmed.dropFirst(3).first == ".",
                  trimmed.prefix(3).allSatisfy(\.isLetter), trimmed.suffix(3).allSatisfy(\.isLetter)
        {
            contract.symbol = String(trimmed.prefix(3))
            contract.currency = String(trimmed.suffix(3))
            contract.secType = "CASH"
            contract.exchange = "IDEALPRO"
        } else if parts.count == 2, isTicker(parts[0]), digits(parts[1], [6, 8]) {
            contract.symbol = parts[0]
            contract.secType = "FUT"
            contract.lastTradeDateOrContractMonth = parts[1]
        } else if parts.count == 2, isTicker(parts[0]), parts[1] == "CONT" {
            contract.symbol = parts[0]
            contract.secType = "CONTFUT"
        } else if parts.count == 4, isTicker(parts[0]), digits(parts[1], [8]), parts[2] == "C" || parts[2] == "P",
                  let strike = Double(parts[3]), APIBounds.price.contains(strike)
        {
            contract = Contract(symbol: parts[0], secType: "OPT", exchange: "SMART", currency: "USD")
            contract.lastTradeDateOrContractMonth = parts[1]
            contract.right = parts[2]
            contract.strike = strike
        } else if parts.allSatisfy(isTicker), parts.count <= 2, parts.count == 1 || parts[1].allSatisfy({ $0.isASCII && $0.isLetter }) {
            // A stock; "BRK B" is one too.
            contract = Contract(symbol: trimmed)
        } else {
            throw InstrumentSpecError("\(shown) is not an instrument (\(grammar))")
        }
        return InstrumentSpec(contract: contract)
    }

    /// Reads the table form; `call` and `parameter` name the argument in errors. A wrong type
    /// raises (`LuaArgumentError`); a value TWS could not be sent (a control character, 1e300 as
    /// con_id) is a `LuaInvalidArgument`.
    public static func from(table: LuaValue, call: String, parameter: String) throws -> InstrumentSpec {
        func string(_ key: String) throws -> String? {
            switch table[key] {
            case .nil: return nil
            case let .string(text): return try LuaChecked.text(text, "\(call): \(parameter).\(key)", allowEmpty: key != "symbol")
            default: throw LuaArgumentError("\(call): \(parameter).\(key) must be a string")
            }
        }
        func number(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
            switch table[key] {
            case .nil: return nil
            case let .integer(value): return try LuaChecked.number(Double(value), "\(call): \(parameter).\(key)", in: range)
            case let .number(value): return try LuaChecked.number(value, "\(call): \(parameter).\(key)", in: range)
            default: throw LuaArgumentError("\(call): \(parameter).\(key) must be a number")
            }
        }
        guard let symbol = try string("symbol")?.uppercased(), !symbol.isEmpty else {
            throw LuaArgumentError("\(call): \(parameter).symbol is required (\(grammar))")
        }
        let type = try string("type")?.uppercased() ?? "STK"
        guard ["STK", "FUT", "CASH", "IND", "OPT", "CONTFUT", "FOP"].contains(type) else {
            throw LuaArgumentError("\(call): \(parameter).type '\(type)' is not STK, FUT, CASH, IND, OPT or CONTFUT")
        }
        var contract = Contract()
        contract.symbol = symbol
        contract.secType = type
        contract.exchange = try string("exchange")?.uppercased() ?? (type == "STK" || type == "OPT" ? "SMART" : type == "CASH" ? "IDEALPRO" : "")
        contract.currency = try string("currency")?.uppercased() ?? (type == "STK" || type == "OPT" ? "USD" : "")
        contract.lastTradeDateOrContractMonth = try string("expiry") ?? ""
        contract.right = try string("right")?.uppercased() ?? ""
        contract.strike = try number("strike", in: APIBounds.price)
        if let multiplier = try number("multiplier", in: APIBounds.multiplier) {
            contract.multiplier = Int64(exactly: multiplier).map(String.init) ?? String(multiplier)
        }
        if table["con_id"] != .nil {
            guard let conId = try LuaChecked.integer(table["con_id"], "\(call): \(parameter).con_id", in: APIBounds.id) else {
                throw LuaArgumentError("\(call): \(parameter).con_id must be a number")
            }
            contract.conId = Int(conId)
        }
        if type == "STK" { contract.primaryExchange = "" }
        if type == "OPT", contract.right.isEmpty || contract.strike == nil || contract.lastTradeDateOrContractMonth.isEmpty {
            throw LuaArgumentError("\(call): an option needs expiry, strike and right (\"C\" or \"P\")")
        }
        return InstrumentSpec(contract: contract)
    }
}

public struct InstrumentSpecError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A contract TWS confirmed: its key, the contract to send (with its conId), and its details.
public struct ResolvedInstrument: Sendable {
    public var key: String
    public var contract: Contract
    public var details: ContractDetails
    public var multiplier: Double { contract.size }
    /// What its units are worth in money (the ledger's, the commission schedule's view).
    public var terms: InstrumentTerms { contract.terms }

    public init(key: String, contract: Contract, details: ContractDetails) {
        self.key = key
        self.contract = contract
        self.details = details
    }
}
