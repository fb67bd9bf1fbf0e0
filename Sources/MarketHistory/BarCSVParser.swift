import Foundation
import TWSProtocol
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bars CSV (the format of `BarCSV`) parsed line by line from bytes, for files of any size:
/// the file is read in chunks, each line parsed where it lies, and bars handed over in
/// batches, so memory stays flat in the file's size.
///
/// Every line first tries a fast path: cells without blanks, quotes or signs, times as
/// `2024-01-02T14:30:00Z`, `2024-01-02 14:30:00`, `2024-01-02T14:30`, `2024-01-02` or epoch
/// seconds, plain decimals (`101.25`), whole counts. Whatever the fast path does not take for
/// certain (an offset, a sign, an exponent, a quote, a bad cell) goes through `BarCSV`'s own
/// cell checks, so the two accept the same lines with the same values and refuse the same
/// lines with the same messages. A file with a bad line is refused whole (`BarCSV.Failure`);
/// once a line is bad, no more bars are handed over (the caller rolls back what it kept).
public struct BarCSVParser {
    /// Bars handed over at a time.
    public static let batchSize = 8_192
    /// Bytes read from a file at a time.
    static let chunkBytes = 1 << 20

    private enum Column {
        case time, open, high, low, close, volume, wap, count, other
    }

    private var names: [String] = []
    private var index: [String: Int] = [:]
    private var columns: [Column] = []
    private var headerRead = false
    private var lineNumber = 0
    private var previousTime: Int64?
    private var previousLine = 0
    private var problems: [BarCSV.Problem] = []
    private var total = 0
    private var batch: [StoredBar] = []
    /// Bars handed over so far, and the first and last of them.
    public private(set) var count = 0
    public private(set) var first: StoredBar?
    public private(set) var last: StoredBar?
    /// Where times written without a zone are read (nil: UTC).
    private var naiveTimes: NaiveTimes?
    private var timeColumn = 0
    /// What the file's times were like, for the import to say: times without a zone (read as
    /// UTC without a place), and times read as the second pass of an hour the clocks repeat.
    public private(set) var clockReadings = ClockReadings()

    /// `naiveTimesIn`: the place whose clock times without a zone show (`2024-01-02 09:30`);
    /// nil reads them as UTC.
    public init(naiveTimesIn zone: TimeZone? = nil) {
        batch.reserveCapacity(Self.batchSize)
        naiveTimes = zone.map(NaiveTimes.init(zone:))
    }

    // MARK: - Driving

    /// Parses the file at `path` in chunks, handing bars to `sink` in batches; throws
    /// `BarCSV.Failure` for a bad file (after the whole file was read, to name its bad lines),
    /// a `CocoaError`-like error when the file cannot be read, or what `sink` throws.
    @discardableResult
    public static func parseFile(at path: String, naiveTimesIn zone: TimeZone? = nil, _ sink: ([StoredBar]) throws -> Void) throws -> BarCSVParser {
        let descriptor = systemOpen(path, O_RDONLY)
        guard descriptor >= 0 else { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
        defer { _ = systemClose(descriptor) }
        var parser = BarCSVParser(naiveTimesIn: zone)
        var capacity = chunkBytes
        var buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buffer.deallocate() }
        var filled = 0
        while true {
            let got = systemRead(descriptor, buffer + filled, capacity - filled)
            if got < 0 {
                if errno == EINTR { continue }
                throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: path])
            }
            if got == 0 {
                if filled > 0 { try parser.consume(UnsafeRawBufferPointer(start: buffer, count: filled), sink) }
                break
            }
            filled += got
            // Whole lines now; the unfinished one moves to the front for the next read.
            let used = try lines(of: UnsafeRawBufferPointer(start: buffer, count: filled), keepingLast: true) { line in
                try parser.consume(line, sink)
            }
            if used > 0 {
                (buffer + 0).copyMemory(from: buffer + used, byteCount: filled - used)
                filled -= used
            }
            if filled == capacity {  // one line longer than the buffer: a bigger buffer
                let bigger = UnsafeMutableRawPointer.allocate(byteCount: capacity * 2, alignment: 16)
                bigger.copyMemory(from: buffer, byteCount: filled)
                buffer.deallocate()
                buffer = bigger
                capacity *= 2
            }
        }
        try parser.finish(sink)
        return parser
    }

    /// Calls `body` with each line of `bytes` (split at "\n"; the line end is not part of it).
    /// `keepingLast`: the bytes after the last "\n" are not a line yet. Returns the bytes used.
    @discardableResult
    static func lines(of bytes: UnsafeRawBufferPointer, keepingLast: Bool = false,
                      _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int
    {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            if !keepingLast { try body(bytes) }
            return 0
        }
        var start = 0
        while start <= bytes.count {
            let rest = bytes.count - start
            guard rest > 0, let found = memchr(base + start, 0x0A, rest) else {
                if !keepingLast { try body(UnsafeRawBufferPointer(start: base + start, count: rest)) }
                return keepingLast ? start : bytes.count
            }
            let end = base.distance(to: UnsafeRawPointer(found))
            try body(UnsafeRawBufferPointer(start: base + start, count: end - start))
            start = end + 1
        }
        return bytes.count
    }

    /// One line (its end removed), handing a full batch of bars to `sink`.
    public mutating func consume(_ raw: UnsafeRawBufferPointer, _ sink: ([StoredBar]) throws -> Void) throws {
        lineNumber += 1
        var line = raw
        if line.count > 0, line[line.count - 1] == 0x0D { line = UnsafeRawBufferPointer(rebasing: line[0..<line.count - 1]) }
        guard headerRead else {
            if lineNumber == 1, line.count >= 3, line[0] == 0xEF, line[1] == 0xBB, line[2] == 0xBF {
                line = UnsafeRawBufferPointer(rebasing: line[3...])
            }
            // Blank lines before the header are skipped, as after it (a file with only those is empty).
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
            try header(line)
            return
        }
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
        var bar: StoredBar
        let naive: Bool
        if let fast = fastBar(line) {
            (bar, naive) = fast
        } else {
            naive = NaiveTimes.isNaive(Self.cell(timeColumn, of: line))
            do {
                bar = try BarCSV.bar(BarCSV.cells(Substring(String(decoding: line, as: UTF8.self))), names: names, index: index)
            } catch let problem as BarCSV.LineProblem {
                record(BarCSV.Problem(line: lineNumber, message: problem.text))
                return
            } catch {
                record(BarCSV.Problem(line: lineNumber, message: "\(error)"))  // bar(_:) throws only LineProblem
                return
            }
        }
        if naive {
            clockReadings.naive.count(lineNumber)
            if naiveTimes != nil {
                guard let moment = utc(of: bar.time, line) else { return }
                bar.time = moment
            }
        }
        if let previousTime, bar.time <= previousTime {
            // Read in a place's clock, the times said are UTC: say so.
            let unit = naiveTimes == nil ? "" : " UTC"
            record(BarCSV.Problem(line: lineNumber, message: "time \(UTCTime.iso(bar.time))\(unit) is not after line \(previousLine)'s (\(UTCTime.iso(previousTime))\(unit))"))
            return
        }
        previousTime = bar.time
        previousLine = lineNumber
        guard total == 0 else { return }  // refused already: nothing more to keep
        batch.append(bar)
        if count == 0 { first = bar }
        last = bar
        count += 1
        if batch.count >= Self.batchSize {
            try sink(batch)
            batch.removeAll(keepingCapacity: true)
        }
    }

    /// After the last line: hands over the last batch, or throws the file's refusal.
    public mutating func finish(_ sink: ([StoredBar]) throws -> Void) throws {
        if !headerRead { throw BarCSV.Failure(BarCSV.Problem(line: 1, message: "empty file")) }
        if total > 0 { throw BarCSV.Failure(problems: problems, total: total) }
        if !batch.isEmpty {
            try sink(batch)
            batch.removeAll(keepingCapacity: true)
        }
    }

    /// The UTC time of a line whose time cell reads `time` as if it were UTC: itself unless
    /// the cell has no zone and `naiveTimes` gives one; nil (the line recorded as bad) for a
    /// clock reading the place never shows.
    private mutating func utc(of time: Int64, _ line: UnsafeRawBufferPointer) -> Int64? {
        guard var naive = naiveTimes else { return time }
        defer { naiveTimes = naive }
        guard let (moment, secondPass) = naive.reading(ofWall: time, after: previousTime) else {
            record(BarCSV.Problem(line: lineNumber, message: "time \(UTCTime.iso(time)) does not exist in \(naive.zone.identifier) "
                                  + "(its clocks jump past it there: a change of its offset)"))
            return nil
        }
        if secondPass { clockReadings.secondPass.count(lineNumber) }
        if BarBounds.timeProblem(moment) != nil {
            record(BarCSV.Problem(line: lineNumber, message: "time \(UTCTime.iso(time)) in \(naive.zone.identifier) is \(UTCTime.iso(moment)) UTC, "
                                  + "outside 1900-01-01 to 9999-12-31"))
            return nil
        }
        return moment
    }

    /// Cell `column` of a line, without the blanks and quotes around it (as `BarCSV.cells`).
    static func cell(_ column: Int, of line: UnsafeRawBufferPointer) -> Slice<UnsafeRawBufferPointer> {
        var start = 0, index = 0
        while index < column, let comma = line[start...].firstIndex(of: 0x2C) {
            start = comma + 1
            index += 1
        }
        return BarCSV.trimmedCell(line[start..<(line[start...].firstIndex(of: 0x2C) ?? line.count)])
    }

    private mutating func record(_ problem: BarCSV.Problem) {
        total += 1
        if problems.count < BarCSV.shownProblems { problems.append(problem) }
    }

    private mutating func header(_ line: UnsafeRawBufferPointer) throws {
        let text = Substring(String(decoding: line, as: UTF8.self))
        guard !text.allSatisfy({ $0 == " " || $0 == "\t" }) else { throw BarCSV.Failure(BarCSV.Problem(line: 1, message: "empty file")) }
        names = BarCSV.cells(text).map { $0.lowercased() }
        index = try BarCSV.columns(names)
        let known: [String: Column] = ["time": .time, "open": .open, "high": .high, "low": .low, "close": .close, "volume": .volume,
                                       "wap": .wap, "count": .count]
        columns = names.map { known[$0] ?? .other }
        timeColumn = index["time"] ?? 0
        headerRead = true
    }

    // MARK: - The fast path

    /// The bar of a line when every cell is of a common form and within bounds, else nil
    /// (then `BarCSV`'s checks decide, and name what is wrong).
    /// And whether its time has no zone (the cell as it is: the fast path takes no blanks or quotes).
    @inline(__always)
    private func fastBar(_ line: UnsafeRawBufferPointer) -> (StoredBar, naive: Bool)? {
        var time: Int64?, open = Double.nan, high = Double.nan, low = Double.nan, close = Double.nan
        var naive = false
        var volume: Double?, wap: Double?, count: Int?
        var column = 0, start = 0
        let end = line.count
        while true {
            var stop = start
            while stop < end, line[stop] != 0x2C { stop += 1 }
            guard column < columns.count else { return nil }
            let cell = UnsafeRawBufferPointer(rebasing: line[start..<stop])
            switch columns[column] {
            case .time:
                guard let value = Self.time(cell) else { return nil }
                time = value
                naive = NaiveTimes.isNaive(cell)
            case .open:
                guard let value = Self.decimal(cell), value <= BarBounds.maxPrice else { return nil }
                open = value
            case .high:
                guard let value = Self.decimal(cell), value <= BarBounds.maxPrice else { return nil }
                high = value
            case .low:
                guard let value = Self.decimal(cell), value <= BarBounds.maxPrice else { return nil }
                low = value
            case .close:
                guard let value = Self.decimal(cell), value <= BarBounds.maxPrice else { return nil }
                close = value
            case .volume:
                if cell.count > 0 {
                    guard let value = Self.decimal(cell), value <= BarBounds.maxVolume else { return nil }
                    volume = value
                }
            case .wap:
                if cell.count > 0 {
                    guard let value = Self.decimal(cell), value <= BarBounds.maxPrice else { return nil }
                    wap = value
                }
            case .count:
                if cell.count > 0 {
                    guard cell.count <= 18, let value = Self.whole(cell) else { return nil }
                    count = Int(value)
                }
            case .other:
                // Not read, but a control character or a blank is BarCSV's to judge.
                guard cell.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else { return nil }
            }
            column += 1
            if stop == end { break }
            start = stop + 1
        }
        guard column == columns.count, let time, !open.isNaN, !high.isNaN, !low.isNaN, !close.isNaN,
              BarBounds.rangeProblem(open: open, high: high, low: low, close: close) == nil
        else { return nil }
        return (StoredBar(time: time, open: open, high: high, low: low, close: close, volume: volume, wap: wap, count: count), naive)
    }

    /// Digits only (1 to 18 of them), as an integer.
    @inline(__always)
    private static func whole(_ cell: UnsafeRawBufferPointer) -> Int64? {
        guard cell.count > 0, cell.count <= 18 else { return nil }
        var value: Int64 = 0
        for byte in cell {
            let digit = Int64(byte) &- 48
            guard digit >= 0, digit <= 9 else { return nil }
            value = value * 10 + digit
        }
        return value
    }

    private static let powersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// `123` or `123.45`: no sign, no exponent, at most 15 significant digits. The digits as
    /// an integer (exact below 2^53) divided by an exact power of ten is one correctly rounded
    /// operation: the same double `Double("123.45")` gives.
    @inline(__always)
    private static func decimal(_ cell: UnsafeRawBufferPointer) -> Double? {
        var mantissa: Int64 = 0
        var digits = 0, fraction = 0, point = false, before = 0
        for byte in cell {
            if byte == 0x2E {
                guard !point else { return nil }
                point = true
                before = digits
                continue
            }
            let digit = Int64(byte) &- 48
            guard digit >= 0, digit <= 9 else { return nil }
            if mantissa == 0 && digit == 0 {
                // Leading zeros add nothing to the mantissa, but those after the point scale it.
                if point { fraction += 1 }
                digits += 1
                continue
            }
            mantissa = mantissa * 10 + digit
            digits += 1
            if point { fraction += 1 }
            if mantissa >= 1 << 53 || fraction > 22 { return nil }
        }
        guard digits > 0, fraction <= 22, !point || (before > 0 && digits > before) else { return nil }
        return Double(mantissa) / powersOfTen[fraction]
    }

    /// Epoch seconds (digits only), `YYYY-MM-DD`, or `YYYY-MM-DD` then `T` or a space and
    /// `HH:MM` or `HH:MM:SS`, then optionally `Z`; within `BarBounds`.
    @inline(__always)
    private static func time(_ cell: UnsafeRawBufferPointer) -> Int64? {
        let count = cell.count
        guard count > 0 else { return nil }
        if cell[0] >= 0x30, cell[0] <= 0x39, count != 10 || cell[4] != 0x2D {
            if let epoch = whole(cell), BarBounds.timeProblem(epoch) == nil { return epoch }
            if count < 10 || cell[4] != 0x2D { return nil }
        }
        guard let epoch = calendarTime(cell) else { return nil }
        return BarBounds.timeProblem(epoch) == nil ? epoch : nil
    }

    /// `YYYY-MM-DD`, or that then `T` or a space and `HH:MM` or `HH:MM:SS`, then optionally
    /// `Z`: UTC epoch seconds, of any 4-digit year (the caller bounds them).
    @inline(__always)
    static func calendarTime(_ cell: UnsafeRawBufferPointer) -> Int64? {
        let count = cell.count
        func two(_ at: Int) -> Int? {
            let high = Int(cell[at]) &- 48, low = Int(cell[at + 1]) &- 48
            guard high >= 0, high <= 9, low >= 0, low <= 9 else { return nil }
            return high * 10 + low
        }
        guard count >= 10, cell[4] == 0x2D, cell[7] == 0x2D, let century = two(0), let years = two(2), let month = two(5),
              let day = two(8)
        else { return nil }
        let year = century * 100 + years
        var hour = 0, minute = 0, second = 0
        var at = 10
        if count > 10 {
            guard count >= 16, cell[10] == 0x54 || cell[10] == 0x20, cell[13] == 0x3A, let h = two(11), let m = two(14) else { return nil }
            (hour, minute) = (h, m)
            at = 16
            if at < count, cell[at] == 0x3A {
                guard count >= 19, let s = two(17) else { return nil }
                second = s
                at = 19
            }
            if at < count, cell[at] == 0x5A { at += 1 }
        }
        guard at == count, month >= 1, month <= 12, day >= 1, hour <= 23, minute <= 59, second <= 59 else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = month == 2 ? (leap ? 29 : 28) : (month == 4 || month == 6 || month == 9 || month == 11 ? 30 : 31)
        guard day <= days else { return nil }
        return UTCTime.epoch(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }
}

// The C calls by names of their own: `open` and `close` are words the parser uses too.
#if canImport(Glibc)
private func systemOpen(_ path: String, _ flags: Int32) -> Int32 { Glibc.open(path, flags) }
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { Glibc.read(descriptor, buffer, count) }
private func systemClose(_ descriptor: Int32) -> Int32 { Glibc.close(descriptor) }
#else
private func systemOpen(_ path: String, _ flags: Int32) -> Int32 { Darwin.open(path, flags) }
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { Darwin.read(descriptor, buffer, count) }
private func systemClose(_ descriptor: Int32) -> Int32 { Darwin.close(descriptor) }
#endif

/// Lines of a CSV whose times were read a particular way: how many, and the first.
public struct CountedLines: Sendable, Equatable {
    public private(set) var count = 0
    public private(set) var first: Int?

    public init() {}

    mutating func count(_ line: Int) {
        count += 1
        if first == nil { first = line }
    }
}

/// How a CSV's times met the clock: times without a zone, and times read as the second pass of
/// an hour the clocks repeat (`--times-in`).
public struct ClockReadings: Sendable, Equatable {
    public var naive = CountedLines()
    public var secondPass = CountedLines()

    public init() {}
}
