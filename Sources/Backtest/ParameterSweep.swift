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
        // One task per loop at a time; a finished run hands its loop (slot) to the next
        // combination. The group is used only from this body, through `next()` (no nested
        // function capturing it, no `for await` iterator beside `addTask`): in release builds
        // that form lost results ("Unexpectedly found nil"). No force-unwrap either: a slot
        // never filled says so instead of trapping.
        let total = combinations.count
        let slots = min(loops.count, total)
        guard slots > 0 else { return [] }
        return await withTaskGroup(of: (Int, Int, Result<BacktestResult, any Error>).self,
                                   returning: [Result<BacktestResult, any Error>].self) { group in
            var results = [Result<BacktestResult, any Error>](repeating: .failure(SweepError.notRun), count: total)
            var next = 0
            while next < total {
                // Start as many as there are free loops, then wait for one to finish.
                while next < slots {
                    let (index, loop) = (next, loops[next])
                    let params = combinations[index]
                    group.addTask { await (index, index, Self.runOne(data, params: params, loop: loop, logger: logger)) }
                    next += 1
                }
                guard next < total, let (index, slot, result) = await group.next() else { break }
                results[index] = result
                finished?(index, result)
                let (nextIndex, loop) = (next, loops[slot])
                let params = combinations[nextIndex]
                group.addTask { await (nextIndex, slot, Self.runOne(data, params: params, loop: loop, logger: logger)) }
                next += 1
            }
            while let (index, _, result) = await group.next() {
                results[index] = result
                finished?(index, result)
            }
            return results
        }
    }

    private static func runOne(_ data: BacktestData, params: [String: String], loop: any EventLoop, logger: Logger) async -> Result<BacktestResult, any Error> {
        do {
            return .success(try await Backtester.run(data, params: params, loop: loop, logger: logger))
        } catch {
            return .failure(error)
        }
    }
}

/// A combination the sweep never ran (only seen if the sweep itself ended early).
public struct SweepError: Error, CustomStringConvertible {
    static let notRun = SweepError()
    public var description: String { "this combination did not run" }
}
