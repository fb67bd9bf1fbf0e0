import Foundation
import TWSProtocol

/// Bars as CSV: `time,open,high,low,close,volume,wap,count`, the time in UTC ISO 8601.
/// Reading also takes `2024-01-02 14:30:00` (UTC), an offset (`2024-01-02T09:30:00-05:00`) and
/// epoch seconds; volume, wap and count may be left out or empty; a UTF-8 byte order mark and
/// CRLF line ends are fine. Every cell is checked (`BarBounds`): a file with any bad line is
/// refused whole, its first bad lines named with the column and why. The cell checks are one
/// function per cell type (`time`, `price`, `volume`, `wap`, `count`), for any parser to reuse.
public enum BarCSV {
    /// One bad line: its number (the header is line 1) and why, naming the column.
    public struct Problem: Error, Equatable, CustomStringConvertible {
        public let line: Int
        public let message: String
        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }
        public var description: String { "line \(line): \(message)" }
    }

    /// Why a file cannot be imported: its first bad lines (at most `shownProblems`) and how many
    /// bad lines it has in all.
    public struct Failure: Error, CustomStringConvertible {
        public let problems: [Problem]
        public let total: Int
        init(_ problem: Problem) {
            problems = [problem]
            total = 1
        }
        init(problems: [Problem], total: Int) {
            self.problems = problems
            self.total = total
        }
        public var description: String {
            problems.map(\.description).joined(separator: "\n") + (total > problems.count ? "\n(\(total - problems.count) more bad lines)" : "")
        }
    }

    /// A cell that is not what its column needs, why without the column: `'inf' is not a finite number`.
    public struct CellProblem: Error, Equatable {
        public let message: String
        init(_ cell: Substring, _ why: String) { message = "\(quoted(cell)) \(why)" }
    }

    public static let header = "time,open,high,low,close,volume,wap,count"
    /// Bad lines named in a refusal; the rest are counted.
    public static let shownProblems = 10

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

    /// The bars of a CSV file, in time order; throws a `Failure` listing the bad lines if any
    /// line is bad (then nothing of the file may be stored).
    public static func read(_ text: String, naiveTimesIn zone: TimeZone? = nil) throws(Failure) -> [StoredBar] {
        var bars: [StoredBar] = []
        var text = text
        do {
            try text.withUTF8 { bytes in
                var parser = BarCSVParser(naiveTimesIn: zone)
                try BarCSVParser.lines(of: UnsafeRawBufferPointer(bytes)) { line in
                    try parser.consume(line) { batch in bars.append(contentsOf: batch) }
                }
                try parser.finish { batch in bars.append(contentsOf: batch) }
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(Problem(line: 1, message: "\(error)"))  // the parser throws only Failure
        }
        return bars
    }

    /// The bars of the CSV file at `path`, read in chunks (see `BarCSVParser`): the same bars
    /// and refusals as `read(_:)`, without the file as one String. A file that cannot be read
    /// is refused on line 1, saying why.
    public static func read(fileAt path: String) throws(Failure) -> [StoredBar] {
        try readCounting(fileAt: path, naiveTimesIn: nil).bars
    }

    /// The same, with times without a zone read in `zone`'s clock (nil: UTC), and how the
    /// file's times met the clock.
    public static func readCounting(fileAt path: String, naiveTimesIn zone: TimeZone?) throws(Failure) -> (bars: [StoredBar], clock: ClockReadings) {
        var bars: [StoredBar] = []
        let parser: BarCSVParser
        do {
            parser = try BarCSVParser.parseFile(at: path, naiveTimesIn: zone) { batch in bars.append(contentsOf: batch) }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(Problem(line: 1, message: "the file cannot be read (\(error.localizedDescription))"))
        }
        return (bars, parser.clockReadings)
    }

    // MARK: - Cells, one function per type

    /// A time: ISO 8601 (`2024-01-02T14:30:00Z`, `2024-01-02T09:30:00-05:00`), `2024-01-02
    /// 14:30:00` or `2024-01-02 14:30` (UTC), `2024-01-02`, or epoch seconds; 1900...9999.
    public static func time(_ cell: Substring) throws(CellProblem) -> Int64 {
        try plain(cell)
        let bytes = Array(cell.utf8)
        let epoch: Int64
        if let first = bytes.first, bytes.count > 1 || isDigit(first),
           first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || isDigit(first), bytes.dropFirst().allSatisfy(isDigit) {
            guard let seconds = Int64(cell) else { throw CellProblem(cell, "is out of range (epoch seconds from 1900 to 9999)") }
            epoch = seconds
        } else if let parsed = calendarTime(bytes) {
            epoch = parsed
        } else {
            throw CellProblem(cell, "is not a time (2024-01-02T14:30:00Z, 2024-01-02 14:30:00 or epoch seconds)")
        }
        if let why = BarBounds.timeProblem(epoch) { throw CellProblem(cell, why) }
        return epoch
    }

    /// An open, high, low or close: a decimal number, not negative, at most `BarBounds.maxPrice`.
    public static func price(_ cell: Substring) throws(CellProblem) -> Double {
        let value = try decimal(cell)
        if let why = BarBounds.priceProblem(value) { throw CellProblem(cell, why) }
        return value
    }

    /// A volume, or nil for an empty cell: not negative (-1 is TWS's "not available"), at most `BarBounds.maxVolume`.
    public static func volume(_ cell: Substring) throws(CellProblem) -> Double? {
        if cell.isEmpty { return nil }
        let value = try decimal(cell)
        if let why = BarBounds.volumeProblem(value) { throw CellProblem(cell, why) }
        return value
    }

    /// An average price (wap), or nil for an empty cell: a price, or -1 ("not available").
    public static func wap(_ cell: Substring) throws(CellProblem) -> Double? {
        if cell.isEmpty { return nil }
        let value = try decimal(cell)
        if let why = BarBounds.wapProblem(value) { throw CellProblem(cell, why) }
        return value
    }

    /// A trade count, or nil for an empty cell: a whole number (`12` or `12.0`), not negative
    /// (-1: "not available").
    public static func count(_ cell: Substring) throws(CellProblem) -> Int? {
        if cell.isEmpty { return nil }
        let value: Int
        if let whole = Int(cell) {
            value = whole
        } else {
            let number = try decimal(cell)
            // Checked: 1e300 or 2.5 is refused, never converted.
            guard number.rounded() == number, abs(number) <= BarBounds.maxVolume, let whole = Int(exactly: number) else {
                throw CellProblem(cell, "is not a whole number of trades")
            }
            value = whole
        }
        if let why = BarBounds.countProblem(value) { throw CellProblem(cell, why) }
        return value
    }

    // MARK: - Lines

    /// A line's message without its number (the caller adds it).
    struct LineProblem: Error {
        let text: String
    }

    /// Which column each name is in; a name twice, or a required one missing, is refused.
    static func columns(_ names: [String]) throws(Failure) -> [String: Int] {
        var index: [String: Int] = [:]
        for (position, name) in names.enumerated() where !name.isEmpty {
            if let earlier = index[name] {
                throw Failure(Problem(line: 1, message: "the header has column \(quoted(Substring(name))) twice (columns \(earlier + 1) and \(position + 1))"))
            }
            index[name] = position
        }
        for required in ["time", "open", "high", "low", "close"] where index[required] == nil {
            throw Failure(Problem(line: 1, message: "the header has no '\(required)' column (expected \(header))"))
        }
        return index
    }

    /// The bar of one line's cells, or why not (the first bad cell, by column name).
    static func bar(_ cells: [Substring], names: [String], index: [String: Int]) throws -> StoredBar {
        // A control character anywhere (a NUL would cut a number short) is refused, whatever the column.
        for (position, cell) in cells.enumerated() {
            do throws(CellProblem) { try plain(cell) } catch {
                throw LineProblem(text: "\(position < names.count && !names[position].isEmpty ? names[position] : "column \(position + 1)") \(error.message)")
            }
        }
        func cell(_ name: String) -> Substring { index[name].flatMap { $0 < cells.count ? cells[$0] : nil } ?? "" }
        func required<T>(_ name: String, _ parse: (Substring) throws(CellProblem) -> T) throws -> T {
            let text = cell(name)
            if text.isEmpty { throw LineProblem(text: "\(name) is missing") }
            do throws(CellProblem) { return try parse(text) } catch { throw LineProblem(text: "\(name) \(error.message)") }
        }
        func optional<T>(_ name: String, _ parse: (Substring) throws(CellProblem) -> T?) throws -> T? {
            do throws(CellProblem) { return try parse(cell(name)) } catch { throw LineProblem(text: "\(name) \(error.message)") }
        }
        let bar = StoredBar(time: try required("time", time), open: try required("open", price), high: try required("high", price),
                            low: try required("low", price), close: try required("close", price), volume: try optional("volume", volume),
                            wap: try optional("wap", wap), count: try optional("count", count))
        if let why = BarBounds.rangeProblem(open: bar.open, high: bar.high, low: bar.low, close: bar.close) { throw LineProblem(text: why) }
        return bar
    }

    /// A line's cells, split at commas, blanks around each trimmed, quotes around one removed.
    static func cells(_ line: Substring) -> [Substring] {
        line.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map { Substring(trimmedCell($0)) }
    }

    /// A cell's bytes without the blanks around them and one pair of quotes around those. By
    /// index: `dropLast` on a Substring counts it, which made a cell padded with a hundred
    /// thousand blanks take minutes.
    static func trimmedCell<Bytes: BidirectionalCollection<UInt8>>(_ bytes: Bytes) -> Bytes.SubSequence {
        var start = bytes.startIndex, end = bytes.endIndex
        func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        while start < end, isBlank(bytes[start]) { start = bytes.index(after: start) }
        while start < end, isBlank(bytes[bytes.index(before: end)]) { end = bytes.index(before: end) }
        if start < end, bytes[start] == UInt8(ascii: "\""), bytes.index(after: start) < end,
           bytes[bytes.index(before: end)] == UInt8(ascii: "\"")
        {
            start = bytes.index(after: start)
            end = bytes.index(before: end)
        }
        return bytes[start..<end]
    }

    // MARK: - Checks

    /// A cell in messages: quoted, escaped, long ones cut.
    static func quoted(_ cell: Substring) -> String { "'" + ShownText.shown(String(cell), limit: 40) + "'" }

    /// Refuses a control character (NUL, CR, ESC, ...): no cell of a bar file has one.
    private static func plain(_ cell: Substring) throws(CellProblem) {
        if cell.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) { throw CellProblem(cell, "contains a control character") }
    }

    /// A decimal number as a CSV writes one: digits, a point, a sign, an exponent. Not `inf`,
    /// `nan` or hex, which Double(_:) would take; a result beyond Double (1e400) is refused.
    private static func decimal(_ cell: Substring) throws(CellProblem) -> Double {
        try plain(cell)
        let allowed = cell.utf8.allSatisfy { isDigit($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+")
            || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
        guard allowed, let value = Double(cell) else {
            let word = cell.lowercased()
            throw CellProblem(cell, word.contains("inf") || word.contains("nan") ? "is not a finite number" : "is not a number")
        }
        guard value.isFinite else { throw CellProblem(cell, "is not a finite number") }
        return value + 0  // -0 as 0
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// `YYYY-MM-DD`, then optionally `T` or a space and `HH:MM[:SS]`, then optionally `Z` or
    /// an offset `±HH[:MM]`; no zone is UTC. Every field range-checked: nil if anything is off.
    private static func calendarTime(_ bytes: [UInt8]) -> Int64? {
        func digits(_ at: Int, _ count: Int) -> Int? {
            guard at >= 0, at + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[at..<at + count] {
                guard isDigit(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        func byte(_ at: Int) -> UInt8? { at < bytes.count ? bytes[at] : nil }
        guard let year = digits(0, 4), byte(4) == UInt8(ascii: "-"), let month = digits(5, 2), byte(7) == UInt8(ascii: "-"),
              let day = digits(8, 2)
        else { return nil }
        var hour = 0, minute = 0, second = 0, offset = 0
        var at = 10
        if let separator = byte(at) {
            guard separator == UInt8(ascii: "T") || separator == UInt8(ascii: " "), let h = digits(at + 1, 2), byte(at + 3) == UInt8(ascii: ":"),
                  let m = digits(at + 4, 2)
            else { return nil }
            (hour, minute) = (h, m)
            at += 6
            if byte(at) == UInt8(ascii: ":") {
                guard let s = digits(at + 1, 2) else { return nil }
                second = s
                at += 3
            }
            if let zone = byte(at) {
                if zone == UInt8(ascii: "Z") {
                    at += 1
                } else if zone == UInt8(ascii: "+") || zone == UInt8(ascii: "-") {
                    guard let hours = digits(at + 1, 2), hours <= 23 else { return nil }
                    at += 3
                    if byte(at) == UInt8(ascii: ":") { at += 1 }
                    var minutes = 0
                    if byte(at) != nil {
                        guard let value = digits(at, 2), value <= 59 else { return nil }
                        minutes = value
                        at += 2
                    }
                    offset = (hours * 3600 + minutes * 60) * (zone == UInt8(ascii: "-") ? -1 : 1)
                } else {
                    return nil
                }
            }
        }
        guard at == bytes.count else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...12).contains(month), (1...days[month - 1]).contains(day), hour <= 23, minute <= 59, second <= 59 else { return nil }
        return UTCTime.epoch(year: year, month: month, day: day, hour: hour, minute: minute, second: second) - Int64(offset)
    }
}
