/// A CSV file built as bytes, for the files with a row per bar (a backtest's equity.csv over a
/// million bars): times as `UTCTime.iso` writes them, the date part formed once a day, and
/// amounts with two decimals by integer arithmetic, where `String(format:)` per cell cost more
/// than the backtest itself.
public struct CSVByteWriter {
    public private(set) var bytes: [UInt8] = []
    private var dayStart = Int64.min
    /// `YYYY-MM-DD ` of the day that starts at `dayStart`.
    private var dayText: [UInt8] = []

    public init(header: String, expectedRows: Int = 0) {
        bytes.reserveCapacity(header.utf8.count + 1 + expectedRows * 48)
        bytes.append(contentsOf: header.utf8)
        bytes.append(UInt8(ascii: "\n"))
    }

    /// Hands the bytes so far to `sink` and forgets them (a long file written in parts, so it is
    /// never whole in memory).
    public mutating func drain(_ sink: ([UInt8]) throws -> Void) rethrows {
        try sink(bytes)
        bytes.removeAll(keepingCapacity: true)
    }

    /// `2024-01-02 14:30:00`, exactly as `UTCTime.iso(epoch)`.
    public mutating func time(_ epoch: Int64) {
        let secondOfDay = epoch >= 0 ? epoch % 86_400 : (86_400 + epoch % 86_400) % 86_400
        let start = epoch - secondOfDay
        if start != dayStart {
            dayStart = start
            dayText = Array((UTCTime.day(start) + " ").utf8)
        }
        bytes.append(contentsOf: dayText)
        let seconds = Int(secondOfDay)
        two(seconds / 3_600)
        bytes.append(UInt8(ascii: ":"))
        two(seconds % 3_600 / 60)
        bytes.append(UInt8(ascii: ":"))
        two(seconds % 60)
    }

    /// `value` with two decimals, the same text as `fallback` (`"%.2f"` without `-0.00`) gives:
    /// by integer arithmetic where the product by 100 is far from a half (where rounding the
    /// product could differ from rounding the exact binary value), else by `fallback`, as for
    /// what cents cannot hold exactly (beyond 10^12 cents, not finite).
    public mutating func cents(_ value: Double, fallback: (Double) -> String) {
        guard let (negative, magnitude) = Self.wholeCents(value) else {
            bytes.append(contentsOf: fallback(value).utf8)
            return
        }
        if negative { bytes.append(UInt8(ascii: "-")) }
        integer(magnitude / 100)
        bytes.append(UInt8(ascii: "."))
        two(Int(magnitude % 100))
    }

    /// `value` in whole cents, rounded as `"%.2f"` rounds it (no `-0.00`: a sign only when the
    /// cents are not zero), when integer arithmetic is sure to agree with it: the product by
    /// 100 far from a half, and below 10^12 cents. Nil otherwise (format it with `"%.2f"`).
    public static func wholeCents(_ value: Double) -> (negative: Bool, magnitude: UInt64)? {
        let raw = value * 100
        let whole = raw.rounded(.towardZero)
        guard raw.isFinite, abs(raw) < 1e12, abs(abs(raw - whole) - 0.5) > 1e-3 else { return nil }
        let total = Int64(raw.rounded())
        return (total < 0, total.magnitude)
    }

    public mutating func text(_ text: String) { bytes.append(contentsOf: text.utf8) }
    public mutating func comma() { bytes.append(UInt8(ascii: ",")) }
    public mutating func endRow() { bytes.append(UInt8(ascii: "\n")) }

    private mutating func two(_ value: Int) {
        bytes.append(UInt8(ascii: "0") + UInt8(value / 10))
        bytes.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    private mutating func integer(_ value: UInt64) { bytes.append(contentsOf: String(value).utf8) }
}
