import Foundation
import PaperGateway

/// The paper gateway's seeded generator (SplitMix64: its sequence is fixed by its seed on
/// every platform and Swift version, the system generator is neither seedable nor stable), with
/// the draws the order-path model makes, so a failing seed replays the same operations.
struct OrderPathModelRandom {
    private var source: SeededRandom

    init(seed: UInt64) { source = SeededRandom(seed: seed) }

    mutating func next() -> UInt64 { source.next() }

    /// 0..<n (the modulo bias of a 64-bit draw over small n does not matter here).
    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }

    /// A Double in [0, 1).
    mutating func unit() -> Double { source.unit() }

    mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// One of `choices` by weight.
    mutating func weighted<T>(_ choices: [(T, Int)]) -> T {
        var left = below(choices.reduce(0) { $0 + $1.1 })
        for (choice, weight) in choices {
            if left < weight { return choice }
            left -= weight
        }
        return choices[choices.count - 1].0
    }
}

/// How much the order-path model runs: a CI-sized run by default; the soak script sets
/// `MOONWIRE_MODEL_SEED` (the first seed), `MOONWIRE_MODEL_SEQUENCES` (how many seeds from it)
/// and `MOONWIRE_MODEL_STEPS` (operations per sequence).
enum OrderPathModelSettings {
    static let environment = ProcessInfo.processInfo.environment

    static var seeds: [UInt64] {
        guard let first = environment["MOONWIRE_MODEL_SEED"].flatMap(UInt64.init) else { return [1, 2, 3, 4] }
        let count = environment["MOONWIRE_MODEL_SEQUENCES"].flatMap(Int.init) ?? 1
        return (0..<UInt64(max(count, 1))).map { first &+ $0 }
    }

    static var steps: Int { environment["MOONWIRE_MODEL_STEPS"].flatMap(Int.init) ?? 80 }

    /// Each modification waits for the answers to the requests of its order, before and after
    /// (see `OrderPathModelRun.settleRequests`). Off by default: the race it avoids is a finding.
    static var settleModifies: Bool { environment["MOONWIRE_MODEL_SETTLE_MODIFIES"] == "1" }

    /// A bound on one sequence, so that a hang fails with its seed instead of stalling the
    /// run: generous (a step takes well under a second; a quiet point waits at most 20 s).
    static var minutesPerSequence: Int { max(5, steps / 100) }
}
