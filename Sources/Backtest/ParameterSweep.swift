import Foundation
import Logging
import NIOCore

/// `--param fast=5,10,20 --param slow=20,50`: every combination, each a backtest of its own,
/// several at once (one strategy loop each), over the same loaded bars.
public enum ParameterSweep {
    /// The combinations of `values` (name → its values), in a stable order: the first name
    /// varies slowest.
    public static func combinations(_ values: [(name: String, values: [String])]) -> [[String: String]] {
        var result: [[String: String]] = [[:]]
        for (name, options) in values {
            result = result.flatMap { partial in options.map { value in partial.merging([name: value]) { $1 } } }
        }
        return result
    }

    /// Runs every combination on `loops`, one run per loop at a time;
    /// results in the combinations' order. A combination whose file fails to load fails alone.
    public static func run(_ data: BacktestData, combinations: [[String: String]], loops: [any EventLoop],
                           logger: Logger = Logger(label: "backtest"),
                           finished: (@Sendable (Int, Result<BacktestResult, any Error>) -> Void)? = nil) async -> [Result<BacktestResult, any Error>]
    {
        await withTaskGroup(of: (Int, Int, Result<BacktestResult, any Error>).self) { group in
            var results = [Result<BacktestResult, any Error>?](repeating: nil, count: combinations.count)
            var next = 0
            // Each run has a loop to itself: a finished run hands its loop to the next.
            func launch(_ index: Int, on slot: Int) {
                let loop = loops[slot]
                group.addTask {
                    do {
                        return (index, slot, .success(try await Backtester.run(data, params: combinations[index], loop: loop, logger: logger)))
                    } catch {
                        return (index, slot, .failure(error))
                    }
                }
            }
            while next < min(loops.count, combinations.count) {
                launch(next, on: next)
                next += 1
            }
            for await (index, slot, result) in group {
                results[index] = result
                finished?(index, result)
                if next < combinations.count {
                    launch(next, on: slot)
                    next += 1
                }
            }
            return results.map { $0! }
        }
    }
}
