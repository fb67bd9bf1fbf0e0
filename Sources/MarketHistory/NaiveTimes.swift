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
        reading(ofWall: wall, after: previous)?.moment
    }

    /// The same, and whether the reading was taken as the second time the clock showed it
    /// (the hour repeated in the autumn, read after its first pass).
    public mutating func reading(ofWall wall: Int64, after previous: Int64?) -> (moment: Int64, secondPass: Bool)? {
        let hour = wall >= 0 ? wall / 3600 : (wall - 3599) / 3600
        if hour == cachedHour { return (wall - cachedOffset, false) }
        let before = offset(at: wall - 86_400), after = offset(at: wall + 86_400)
        if before == after {
            cachedHour = hour
            cachedOffset = before
            return (wall - before, false)
        }
        // A change of offset within a day: each offset that maps back to this reading is one
        // moment the clock shows it (none: skipped; two: repeated).
        let moments = Set([before, after]).map { wall - $0 }.filter { wall - $0 == offset(at: $0) }.sorted()
        guard let first = moments.first else { return nil }
        guard let previous, let later = moments.first(where: { $0 > previous }) else { return (first, false) }
        return (later, later != first)
    }

    private func offset(at utc: Int64) -> Int64 {
        Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(utc))))
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
