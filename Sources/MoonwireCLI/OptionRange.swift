import ArgumentParser

/// Range checks for the numbers given on the command line. ArgumentParser accepts any Int
/// and any Double ("nan", "inf", "1e300"); a value outside what the option can mean is a
/// usage error (exit 64) naming the option and the value, not a trap or a nonsense result
/// later (`Int(nan)`, `Duration.seconds(.infinity)`, a drawdown of 104,904 %).
enum OptionRange {
    /// `value` if it lies in `range`: `--jobs must be between 1 and 256, got 0`.
    @discardableResult
    static func check(_ value: Int, _ option: String, _ range: ClosedRange<Int>) throws -> Int {
        guard range.contains(value) else {
            throw ValidationError("\(option) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }

    /// `value` if it is finite and lies in `range` (above the lower bound only, when it is
    /// `exclusive`: `--cash must be more than 0 and at most 1000000000000, got 0`).
    @discardableResult
    static func check(_ value: Double, _ option: String, _ range: ClosedRange<Double>, exclusive: Bool = false) throws -> Double {
        let above = exclusive ? value > range.lowerBound : value >= range.lowerBound
        guard value.isFinite, above, value <= range.upperBound else {
            let bounds = exclusive ? "more than \(shown(range.lowerBound)) and at most \(shown(range.upperBound))"
                : "between \(shown(range.lowerBound)) and \(shown(range.upperBound))"
            throw ValidationError("\(option) must be \(bounds), got \(value)")
        }
        return value
    }

    /// TWS keeps client ids in a Java int.
    static let clientIds = 0...Int(Int32.max)
    /// The longest a run, a quote or a wait may be asked to last: ten years, in seconds.
    static let maxSeconds = 10 * 365 * 86_400.0

    /// 1000000000000 rather than 1e+12 for whole bounds.
    private static func shown(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
