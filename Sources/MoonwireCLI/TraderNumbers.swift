import Foundation
import Moonwire

/// Numbers as a trader reads them. A price computed as ticks × tick size is a hair off the
/// decimal it stands for (18764 × 0.01 is 187.64000000000001), and Swift prints the exact
/// double: `history export` wrote `187.64000000000001,187.57999999999998`. A double holds 15
/// significant decimal digits faithfully, so the value taken to 15 digits and back is the
/// decimal meant, which then prints as its shortest form (`187.64`); a genuine digit beyond
/// the 15th is noise in any price, size or volume.
enum TraderNumbers {
    static func cleaned(_ value: Double) -> Double {
        guard value.isFinite, value != 0 else { return value == 0 ? 0 : value }  // no -0 either
        return Double(String(format: "%.15g", value)) ?? value
    }

    static func cleaned(_ value: Double?) -> Double? { value.map { cleaned($0) } }

    /// `value` with `digits` decimals, never `-0.00` (a rounding to nothing has no sign).
    static func fixed(_ value: Double, _ digits: Int) -> String {
        let text = String(format: "%.\(digits)f", value)
        guard text.hasPrefix("-"), text.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) else { return text }
        return String(text.dropFirst())
    }

    /// A change with its sign (`+1.25`, `-0.40`), and `0.00` with none when it rounds to nothing.
    static func signed(_ value: Double, _ digits: Int) -> String {
        let text = fixed(value, digits)
        return value > 0 && text.contains(where: { $0 != "0" && $0 != "." }) ? "+" + text : text
    }

    /// A stored bar with each number cleaned (the store keeps what it was given).
    static func cleaned(_ bar: StoredBar) -> StoredBar {
        StoredBar(time: bar.time, open: cleaned(bar.open), high: cleaned(bar.high), low: cleaned(bar.low), close: cleaned(bar.close),
                  volume: cleaned(bar.volume), wap: cleaned(bar.wap), count: bar.count)
    }
}
