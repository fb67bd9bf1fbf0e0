import Foundation
import MarketHistory
import NIOPosix
import Synchronization
import Testing
@testable import Backtest

/// `--param entry=1,2,3,...`: every combination a backtest of its own, several at once on their
/// own loops (the sweep that crashed in release builds ran here); the same results, in the
/// combinations' order, as one run each; a combination that fails, fails alone. Also run under
/// ThreadSanitizer (Scripts/test-tsan).
@Suite("Parameter sweep", .serialized)
struct ParameterSweepTests {
    /// Buys 10 on bar `entry`, sells them two bars later; `broken=yes` fails at the top level.
    static let strategy = """
        if params.broken == "yes" then error("a combination that does not load") end
        local n = 0
        function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
        function on_bar(b)
          n = n + 1
          if n == tonumber(params.entry) then orders.buy("AAPL", 10) end
          if n == tonumber(params.entry) + 2 then orders.sell("AAPL", 10) end
        end
        """

    @Test("six combinations on two loops: each as its own run, in order; the broken one fails alone")
    func sweep() async throws {
        let fixture = try await BacktestRunTests.fixture()
        defer { try? FileManager.default.removeItem(at: fixture.folder) }
        let file = fixture.folder.appendingPathComponent("strategy.lua")
        try Self.strategy.write(to: file, atomically: true, encoding: .utf8)
        var setup = BacktestSetup(strategyPath: file.path, span: TimeSpan(BacktestRunTests.start, BacktestRunTests.start + 6 * 60))
        setup.params = ["entry": "1"]
        let data = try await BacktestData.load(setup: setup, instruments: [fixture.instrument], store: fixture.store)
        // Six bars: a sale on bar entry + 2 fills at the next bar's open while entry <= 3.
        let combinations = ParameterSweep.combinations([("entry", ["1", "2", "3"]), ("broken", ["no"])])
            + [["entry": "1", "broken": "yes"], ["entry": "2", "broken": "no"], ["entry": "3", "broken": "no"]]
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = [group.next(), group.next()]
        let finishedCount = LockedCount()
        let results = await ParameterSweep.run(data, combinations: combinations, loops: loops) { _, _ in finishedCount.add() }
        try await group.shutdownGracefully()

        #expect(results.count == combinations.count)
        #expect(finishedCount.value == combinations.count, "each combination reported as it finished")
        for (index, params) in combinations.enumerated() {
            switch results[index] {
            case let .success(result):
                #expect(params["broken"] == "no", "\(params) ran")
                #expect(result.params["entry"] == params["entry"], "results in the combinations' order")
                // Bought on bar `entry`, filled at the next bar's open; sold two bars later, the same.
                let single = try await Backtester.run(data, params: params, loop: BacktestRunTests.loop)
                #expect(result.fills.map(\.price) == single.fills.map(\.price), "\(params): the same fills as a run of its own")
                #expect(result.fills.count == 2, "\(params): \(result.fills.map(\.price))")
                #expect(result.metrics.finalEquity == single.metrics.finalEquity)
            case let .failure(error):
                #expect(params["broken"] == "yes", "\(params) failed: \(error)")
                #expect("\(error)".contains("a combination that does not load"), "\(error)")
            }
        }
    }
}

/// A count several loops add to.
final class LockedCount: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
