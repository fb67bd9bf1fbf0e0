import Foundation
import TWSProtocol

/// `history.ingest` of the config: the instruments whose bars `moonwire serve` keeps current in
/// the bar store, every `everySeconds`, starting `days` back the first time.
public struct HistoryIngest: Sendable, Equatable {
    public var symbols: [String]
    public var bar = "1 min"
    public var everySeconds = 900.0
    public var days = 5

    public init(symbols: [String], bar: String = "1 min", everySeconds: Double = 900, days: Int = 5) {
        self.symbols = symbols
        self.bar = bar
        self.everySeconds = everySeconds
        self.days = days
    }

    static let keys = ["symbols", "bar", "every", "days"]

    static func parse(_ value: Any, source: String) throws -> HistoryIngest {
        func fail(_ message: String) -> HostConfigError { HostConfigError(message: "\(source): history.ingest\(message)") }
        guard let mapping = value as? [String: Any] else { throw fail(" must be a mapping (symbols, bar, every, days)") }
        for key in mapping.keys.sorted() where !keys.contains(key) {
            throw fail(".\(key) is not a setting (known: \(keys.joined(separator: ", ")))")
        }
        let symbols: [String]
        switch mapping["symbols"] {
        case let list as [Any]: symbols = list.map { "\($0)".trimmingCharacters(in: .whitespaces) }
        case let text as String: symbols = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        default: throw fail(".symbols is required: a list of instruments ([AAPL, MSFT])")
        }
        guard !symbols.isEmpty, symbols.allSatisfy({ !$0.isEmpty }), symbols.count <= 500 else {
            throw fail(".symbols must name 1 to 500 instruments")
        }
        var ingest = HistoryIngest(symbols: symbols)
        if let bar = mapping["bar"] {
            guard let text = bar as? String, HistoricalSpan.barSeconds(text) != nil else {
                throw fail(".bar '\(bar)' is not a bar size as IB spells it (1 min, 5 mins, 1 hour, 1 day)")
            }
            ingest.bar = text
        }
        if let every = mapping["every"] {
            guard let seconds = Self.seconds(every), seconds >= 60, seconds <= 7 * 86_400 else {
                throw fail(".every '\(every)' is not a duration from 60 s to 7 days (900, \"15 min\", \"1 hour\")")
            }
            ingest.everySeconds = seconds
        }
        if let days = mapping["days"] {
            guard let count = days as? Int, (1...3650).contains(count) else { throw fail(".days '\(days)' is not a whole number from 1 to 3650") }
            ingest.days = count
        }
        return ingest
    }

    /// Seconds from a number or `N s|sec|min|mins|hour|hours|day|days`.
    static func seconds(_ value: Any) -> Double? {
        if let number = value as? Int { return Double(number) }
        if let number = value as? Double, number.isFinite { return number }
        guard let text = value as? String else { return nil }
        let parts = text.lowercased().split(separator: " ")
        guard let first = parts.first, let amount = Double(first), amount.isFinite else { return nil }
        guard parts.count == 2 else { return parts.count == 1 ? amount : nil }
        switch parts[1] {
        case "s", "sec", "secs", "second", "seconds": return amount
        case "min", "mins", "minute", "minutes": return amount * 60
        case "hour", "hours", "h": return amount * 3600
        case "day", "days", "d": return amount * 86_400
        default: return nil
        }
    }
}
