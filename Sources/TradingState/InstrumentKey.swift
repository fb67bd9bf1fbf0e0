import Foundation
import TWSProtocol

extension Contract {
    /// Moonwire's name of an instrument, the same whichever way TWS or a strategy describes
    /// it: `AAPL` (a stock), `EUR.USD` (forex), `ES 202612` (a future: its contract month),
    /// `AAPL 20261218 C 200` (an option), `^SPX` (an index), `ES CONT` (a continuous future).
    /// Orders, executions, positions and quotes are keyed by it; for a stock it is the symbol.
    public var instrumentKey: String {
        // Keys are asked for on every order and fill: names already upper case (nearly all)
        // are not copied.
        let symbol = Self.upper(self.symbol)
        switch Self.upper(secType) {
        case "", "STK": return symbol
        case "CASH": return "\(symbol).\(currency.uppercased())"
        case "FUT": return lastTradeDateOrContractMonth.isEmpty ? "\(symbol) FUT" : "\(symbol) \(lastTradeDateOrContractMonth.prefix(6))"
        case "CONTFUT": return "\(symbol) CONT"
        case "IND": return "^\(symbol)"
        case "OPT", "FOP":
            let strikeText = strike.map { $0.rounded() == $0 ? String(Int($0)) : String($0) } ?? "?"
            return "\(symbol) \(lastTradeDateOrContractMonth) \(right.uppercased().prefix(1)) \(strikeText)"
        default: return "\(symbol) \(secType.uppercased())"
        }
    }

    static func upper(_ text: String) -> String {
        text.utf8.contains(where: { $0 >= 97 && $0 <= 122 }) ? text.uppercased() : text
    }

    /// The contract size (`multiplier`, 1 when TWS gives none).
    public var size: Double { Double(multiplier).flatMap { $0 > 0 ? $0 : nil } ?? 1 }
}
