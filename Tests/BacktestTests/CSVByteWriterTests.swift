import Foundation
import MarketHistory
import Testing

@testable import Backtest

/// equity.csv is written as bytes for speed; its text must be what the general formatters
/// write, cell for cell, including the cases where rounding the product by 100 and rounding
/// the binary value differ.
@Suite("equity.csv written as bytes: the same text as the formatters")
struct CSVByteWriterTests {
    static let edgeAmounts: [Double] = [
        0, -0.0, 0.004, -0.004, 0.005, -0.005, 0.125, -0.125, 1.005, 2.675, 1.115, 0.285, 99_999.995,
        100_000.015, -7.5, 123_456_789.125, 9_999_999_999.99, 1e10, 1e12, 1e13, -1e13, 4.35, 0.045, 1e300, -1e300,
        .infinity, -.infinity, .nan, .leastNonzeroMagnitude, 9_007_199_254_740_994,
    ]

    static let edgeTimes: [Int64] = [0, -1, -86_400, -86_401, 59, 86_399, 86_400, 951_782_400, 1_704_067_199, 1_704_067_200,
                                     4_102_444_800, -2_208_988_800]

    @Test("amounts at the edges and 200,000 seeded ones: cents(x) == fixed(x, 2)")
    func amounts() {
        var random = SystemRandomNumberGenerator()
        var values = Self.edgeAmounts
        // Seeded walk of prices with fractions that land on halves often (thousandths).
        var seed: UInt64 = 7
        for _ in 0..<200_000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let thousandths = Int64(bitPattern: seed >> 20) % 200_000_000
            values.append(Double(thousandths) / 1_000)
        }
        for _ in 0..<10_000 { values.append(Double.random(in: -1e9...1e9, using: &random)) }
        var mismatches: [String] = []
        for value in values {
            var writer = CSVByteWriter(header: "x")
            writer.cents(value) { BacktestReport.fixed($0, 2) }
            let written = String(decoding: writer.bytes.dropFirst(2), as: UTF8.self)
            let expected = BacktestReport.formatted(value, 2)
            if written != expected, mismatches.count < 10 { mismatches.append("\(value): \(written) vs \(expected)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
    }

    /// The amounts of `amounts()`, and prices in whole cents and near them.
    static func seededValues() -> [Double] {
        var values = edgeAmounts
        var seed: UInt64 = 11
        for _ in 0..<100_000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let cents = Int64(bitPattern: seed >> 16) % 2_000_000_000_000
            values.append(Double(cents) / 100)
            values.append(Double(cents) / 100 + 1e-9)
            values.append(-Double(cents % 100_000) / 100)
            values.append(Double(cents) / 1e6)
        }
        values += [0.1 + 0.2, 1e13 + 0.25, 9.999_999_999_999e12 + 0.01, 1e-5, 0.05, 0.5, 100.2, 100.20000000000002]
        return values
    }

    @Test("fixed(x, 2) by integer arithmetic == String(format: \"%.2f\") without -0.00, for every seeded value")
    func fixedTwoDecimals() {
        let mismatches = Self.seededValues().filter { BacktestReport.fixed($0, 2) != BacktestReport.formatted($0, 2) }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10).map { "\($0): \(BacktestReport.fixed($0, 2)) vs \(BacktestReport.formatted($0, 2))" })")
    }

    @Test("number(x) of a whole-cents price == the general shortest form, for every seeded value")
    func numberOfCents() {
        let values = Self.seededValues().filter(\.isFinite).filter { $0.rounded() != $0 || abs($0) >= 1e15 }
        let mismatches = values.filter { BacktestReport.number($0) != BacktestReport.shortest($0) }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10).map { "\($0): \(BacktestReport.number($0)) vs \(BacktestReport.shortest($0))" })")
    }

    @Test("times: time(t) == UTCTime.iso(t) across days, before 1970 and far ahead")
    func times() {
        var times = Self.edgeTimes
        for minute in stride(from: Int64(-3_000), to: 3_000, by: 7) { times.append(1_704_067_200 + minute * 60) }
        var writer = CSVByteWriter(header: "time")
        for time in times {
            writer.time(time)
            writer.endRow()
        }
        let lines = String(decoding: writer.bytes, as: UTF8.self).split(separator: "\n").dropFirst().map(String.init)
        #expect(lines == times.map { UTCTime.iso($0) })
    }

    @Test("equity.csv: header, drawdown from the running peak, the invested flag")
    func equityFile() {
        let points = [EquityPoint(time: 1_704_067_200, equity: 100_000, invested: false),
                      EquityPoint(time: 1_704_067_260, equity: 100_010.5, invested: true),
                      EquityPoint(time: 1_704_067_320, equity: 99_990.25, invested: true)]
        let text = String(decoding: BacktestReport.equityCSV(points), as: UTF8.self)
        #expect(text == """
            time,equity,drawdown,invested
            2024-01-01 00:00:00,100000.00,0.00,0
            2024-01-01 00:01:00,100010.50,0.00,1
            2024-01-01 00:02:00,99990.25,20.25,1

            """)
    }
}
