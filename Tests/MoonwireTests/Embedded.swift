import Foundation
import Testing
import TradingState
@testable import Moonwire
@testable import StrategyHost

/// A `MoonwireRuntime` on its own paper gateway (quotes every 20 ms), journal and folder:
/// what an embedding application would start.
struct Embedded {
    let runtime: MoonwireRuntime
    let folder: URL

    static func start(extensions: [LuaExtension] = [], _ change: (inout MoonwireConfiguration) -> Void = { _ in }) async throws -> Embedded {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-embedded-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var configuration = MoonwireConfiguration()
        configuration.paper.market.tickIntervalMs = 20
        configuration.journalPath = folder.appendingPathComponent("journal.sqlite").path
        configuration.controlChannel = false
        configuration.watchFiles = false
        configuration.connection.backoffBase = 0.1
        configuration.connection.connectTimeout = 10
        change(&configuration)
        let runtime = try await MoonwireRuntime.start(configuration, extensions: extensions)
        return Embedded(runtime: runtime, folder: folder)
    }

    /// Writes `source` to `name` (a path under the folder; folders are made) and returns the path.
    @discardableResult
    func write(_ name: String, _ source: String) throws -> String {
        let file = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try source.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    /// The strategy's log lines (log.info / print).
    func lines(_ name: String) async -> [String] {
        guard let strategy = runtime.runner.strategy(named: name) else {
            Issue.record("no strategy named \(name) runs: its log lines are unknown")
            return []
        }
        return await strategy.lines()
    }

    /// Waits up to `seconds` for `condition` on the trading state (a test failure when it
    /// does not come): an event awaited, not a sleep that hopes it came.
    func waitForState(_ what: String, seconds: Double = 30, sourceLocation: SourceLocation = #_sourceLocation,
                      _ condition: (TradingState.Snapshot) -> Bool) async throws
    {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(await runtime.snapshot()) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("never came: \(what)", sourceLocation: sourceLocation)
    }

    /// Waits up to `seconds` for `condition` on the strategy's lines (a test failure when it
    /// does not come); returns the lines.
    @discardableResult
    func waitForLines(_ name: String, seconds: Double = 30, sourceLocation: SourceLocation = #_sourceLocation,
                      _ condition: ([String]) -> Bool) async throws -> [String]
    {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let lines = await lines(name)
            if condition(lines) { return lines }
            try await Task.sleep(for: .milliseconds(20))
        }
        let lines = await lines(name)
        Issue.record("\(name) never logged what was awaited: \(lines.suffix(10))", sourceLocation: sourceLocation)
        return lines
    }

    func stop() async -> MoonwireRunSummary {
        let summary = await runtime.stop()
        try? FileManager.default.removeItem(at: folder)
        return summary
    }
}

extension Strategy {
    /// Its log lines (log.info / print). A loop that does not answer in 10 s fails the test
    /// (a hung loop must not read as "nothing was printed").
    func lines() async -> [String] {
        guard let lines = await loop.submit({ self.logLines }).value(within: 10) else {
            Issue.record("the strategy's loop did not answer within 10 s: its log lines are unknown")
            return []
        }
        return lines
    }
}
