import Foundation

/// One seeded random walk of an instrument's log price over all of time, in whole units of its
/// clock (`TradingHours.clock`: sixteenths of a second of regular trading): the same seed and
/// symbol give the same path whatever span a request asks for, so bars asked for day by day
/// meet where the days meet (each day generated on its own, backwards from the current price,
/// jumped by several dollars at every UTC midnight).
///
/// The walk is a Brownian motion built top down (Lévy's construction): the value at the
/// midpoint of an interval is the mean of its ends plus a seeded normal draw scaled to half the
/// interval, so the value at any second is found in one descent of at most `levels` steps,
/// without walking from a fixed start, and a set of seconds shares the descents they have in
/// common.
struct PricePath {
    /// 2^41 units either side of 1970: some 4,000 years of around-the-clock trading at 16
    /// units a second, every date a request can name.
    static let levels = 42
    static let origin: Int64 = -(1 << 41)
    static let span: Int64 = 1 << 42

    private let key: UInt64

    init(seed: UInt64, symbol: String) {
        var stream = SeededRandom(seed: seed, stream: "price-path:" + symbol)
        key = stream.next()
    }

    /// The walk's value (standard units: variance 1 per unit) at each of `seconds` (units of
    /// its clock, any order; clamped to the path's span).
    func values(at seconds: [Int64]) -> [Int64: Double] {
        let points = Array(Set(seconds.map { min(max($0, Self.origin), Self.origin + Self.span) })).sorted()
        var out: [Int64: Double] = [:]
        out.reserveCapacity(points.count)
        let end = Self.origin + Self.span
        fill(Self.origin, end, 0, normal(end) * Double(Self.span).squareRoot(), points[...], into: &out)
        return seconds.reduce(into: [Int64: Double]()) { result, second in
            result[second] = out[min(max(second, Self.origin), end)]
        }
    }

    /// The values of the sorted `points` within [a, b], given the values at a and b.
    private func fill(_ a: Int64, _ b: Int64, _ xa: Double, _ xb: Double, _ points: ArraySlice<Int64>, into out: inout [Int64: Double]) {
        var inside = points
        if inside.first == a { out[a] = xa; inside = inside.dropFirst() }
        if inside.last == b { out[b] = xb; inside = inside.dropLast() }
        guard !inside.isEmpty, b - a > 1 else { return }
        let m = a + (b - a) / 2
        let xm = (xa + xb) / 2 + normal(m) * (Double(b - a) / 4).squareRoot()
        let split = inside.partitioningIndex { $0 > m }
        fill(a, m, xa, xm, inside[..<split], into: &out)
        fill(m, b, xm, xb, inside[split...], into: &out)
    }

    /// A standard normal draw belonging to the point `m` of the path (Box–Muller on two
    /// SplitMix64 outputs): every dyadic point is the midpoint of exactly one interval.
    private func normal(_ m: Int64) -> Double {
        // Hashed twice: neighbouring points must not get overlapping SplitMix64 streams.
        var generator = SeededRandom(seed: Self.mix(key ^ Self.mix(UInt64(bitPattern: m))))
        return generator.gaussian()
    }

    /// SplitMix64's finalizer: a bijective scramble of 64 bits.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension ArraySlice where Element == Int64 {
    /// The index of the first element for which `belongs` holds, in a slice sorted so that
    /// once it holds it holds for the rest.
    func partitioningIndex(where belongs: (Int64) -> Bool) -> Index {
        var low = startIndex, high = endIndex
        while low < high {
            let mid = low + (high - low) / 2
            if belongs(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
