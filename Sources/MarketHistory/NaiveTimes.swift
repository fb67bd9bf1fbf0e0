import Foundation

/// Times a CSV writes without a zone (`2024-01-02 09:30:00`) read as the clock of a place
/// (`--times-in America/New_York`: many data vendors write their exchange's clock), turned into
/// UTC. Summer time included: the hour the clocks skip does not exist (a line there is refused),
/// and the hour they repeat is read in the order of the file (the first pass, then the second:
/// each bar after the one before it).
///
/// Offsets are looked up per hour of the clock and remembered while no change of offset is
/// within a day of it (two changes of a zone's offset are always more than two days apart), so
/// a file of a million bars costs a few thousand look-ups.
public struct NaiveTimes: Sendable {
    public let zone: TimeZone
    /// The hour of the clock (wall seconds / 3600) last resolved without a change nearby, and
    /// its offset.
    private var cachedHour = Int64.min
    private var cachedOffset: Int64 = 0

    public init(zone: TimeZone) {
        self.zone = zone
    }

    /// The UTC time of `wall` (the clock's reading, counted as if it were UTC), the earliest
    /// reading after `previous` when the clock shows it twice; nil when the clock never shows
    /// it (the hour skipped in spring).
    public mutating func utc(ofWall wall: Int64, after previous: Int64?) -> Int64? {
        let hour = wall >= 0 ? wall / 3600 : (wall - 3599) / 3600
        if hour == cachedHour { return wall - cachedOffset }
        let before = offset(at: wall - 86_400), after = offset(at: wall + 86_400)
        if before == after {
            cachedHour = hour
            cachedOffset = before
            return wall - before
        }
        // A change of offset within a day: each offset that maps back to this reading is one
        // moment the clock shows it (none: skipped; two: repeated).
        let moments = Set([before, after]).map { wall - $0 }.filter { wall - $0 == offset(at: $0) }.sorted()
        guard let first = moments.first else { return nil }
        if let previous { return moments.first { $0 > previous } ?? first }
        return first
    }

    private func offset(at utc: Int64) -> Int64 {
        Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(utc))))
    }

    /// Whether the first bar of the CSV file at `path` has a time without a zone (read from
    /// the file's first 64 KB; false when it cannot tell): an import can then say which clock
    /// it read such times in.
    public static func firstTimeIsNaive(inFileAt path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 1 << 16) else { return false }
        var lines: [[UInt8]] = []
        head.withUnsafeBytes { bytes in
            _ = try? BarCSVParser.lines(of: UnsafeRawBufferPointer(bytes), keepingLast: head.count == 1 << 16) { line in
                var line = Array(line)
                if line.last == 0x0D { line.removeLast() }
                if lines.count < 2, !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { lines.append(line) }
            }
        }
        guard lines.count == 2 else { return false }
        let names = BarCSV.cells(Substring(String(decoding: lines[0], as: UTF8.self))).map { $0.lowercased().trimmingCharacters(in: .init(charactersIn: "\u{FEFF}\r")) }
        guard let column = names.firstIndex(of: "time") else { return false }
        return lines[1].withUnsafeBytes { isNaive(BarCSVParser.cell(column, of: $0)) }
    }

    /// Whether a time cell is a date and clock time with no zone (`2024-01-02 09:30`,
    /// `2024-01-02T09:30:00`): the form this reads in a place's clock. Dates alone, epoch
    /// seconds, `Z` and offsets say their own moment.
    public static func isNaive<Bytes: Collection<UInt8>>(_ cell: Bytes) -> Bool where Bytes.Index == Int {
        let start = cell.startIndex
        guard cell.count == 16 || cell.count == 19, cell[start + 4] == UInt8(ascii: "-"),
              cell[start + 10] == UInt8(ascii: "T") || cell[start + 10] == UInt8(ascii: " "), cell[start + 13] == UInt8(ascii: ":")
        else { return false }
        return cell.count == 16 || cell[start + 16] == UInt8(ascii: ":")
    }
}
