import Foundation

/// Bars as CSV: `time,open,high,low,close,volume,wap,count`, the time in UTC ISO 8601.
/// Reading also takes `2024-01-02 14:30:00` (UTC) and epoch seconds, and volume, wap and count
/// may be left out or empty. A bad line is an error naming it; nothing is read past it.
public enum BarCSV {
    public struct Problem: Error, CustomStringConvertible {
        public let line: Int
        public let message: String
        public var description: String { "line \(line): \(message)" }
    }

    public static let header = "time,open,high,low,close,volume,wap,count"

    public static func write(_ bars: [StoredBar]) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        func number(_ value: Double?) -> String { value.map { $0.rounded() == $0 && abs($0) < 1e15 ? String(Int64($0)) : String($0) } ?? "" }
        var lines = [header]
        lines.reserveCapacity(bars.count + 1)
        for bar in bars {
            lines.append([formatter.string(from: Date(timeIntervalSince1970: TimeInterval(bar.time))), number(bar.open), number(bar.high),
                          number(bar.low), number(bar.close), number(bar.volume), number(bar.wap), bar.count.map(String.init) ?? ""]
                .joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func read(_ text: String) throws -> [StoredBar] {
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        guard let first = lines.first else { throw Problem(line: 1, message: "empty file") }
        let columns = first.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        for required in ["time", "open", "high", "low", "close"] where !columns.contains(required) {
            throw Problem(line: 1, message: "the header has no '\(required)' column (expected \(header))")
        }
        let index = Dictionary(uniqueKeysWithValues: columns.enumerated().map { ($1, $0) })
        let iso = ISO8601DateFormatter()
        var bars: [StoredBar] = []
        for (offset, line) in lines.enumerated().dropFirst() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let number = offset + 1
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            func cell(_ name: String) -> String? { index[name].flatMap { $0 < cells.count ? cells[$0] : nil }.flatMap { $0.isEmpty ? nil : $0 } }
            func price(_ name: String) throws -> Double {
                guard let text = cell(name), let value = Double(text), value.isFinite else {
                    throw Problem(line: number, message: "\(name) '\(cell(name) ?? "")' is not a number")
                }
                return value
            }
            guard let timeText = cell("time") else { throw Problem(line: number, message: "no time") }
            let time: Int64
            if let epoch = Int64(timeText) {
                time = epoch
            } else if let date = iso.date(from: timeText) {
                time = Int64(date.timeIntervalSince1970)
            } else if let parsed = HistoryPlan.parseDay(timeText) {
                time = parsed
            } else {
                throw Problem(line: number, message: "time '\(timeText)' is not ISO 8601 (2024-01-02T14:30:00Z), 'YYYY-MM-DD HH:MM:SS' or epoch seconds")
            }
            let bar = StoredBar(time: time, open: try price("open"), high: try price("high"), low: try price("low"), close: try price("close"),
                                volume: cell("volume").flatMap(Double.init), wap: cell("wap").flatMap(Double.init), count: cell("count").flatMap { Int($0) })
            guard bar.high >= max(bar.open, bar.close, bar.low), bar.low <= min(bar.open, bar.close) else {
                throw Problem(line: number, message: "high \(bar.high) and low \(bar.low) do not contain open \(bar.open) and close \(bar.close)")
            }
            if let previous = bars.last, time <= previous.time {
                throw Problem(line: number, message: "time \(timeText) is not after the line before's")
            }
            bars.append(bar)
        }
        return bars
    }
}
