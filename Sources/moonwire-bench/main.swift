// moonwire-bench: ticks into on_quote per second, and socket-to-handler latency, against the
// paper gateway (run by Scripts/bench, release build; never a timed unit test).
//
//     moonwire-bench [SECONDS]
import Foundation
import Histogram
import NIOCore
import NIOPosix
import PaperGateway
import StrategyHost
import TWSClient
import TradingState

import Logging

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .warning
    return handler
}
let seconds = Double(CommandLine.arguments.dropFirst().first ?? "") ?? 5
let symbols = ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "TSLA", "META", "SPY", "QQQ", "IWM"]
let source = """
    count = 0
    function on_start() for _, s in ipairs({\(symbols.map { "\"\($0)\"" }.joined(separator: ", "))}) do market.subscribe(s) end end
    function on_quote(q) count = count + 1 end
    """

final class Latencies: @unchecked Sendable {
    var histogram = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
}

func run(tickIntervalMs: Int, label: String) async throws {
    var gateway = PaperGatewayConfig()
    gateway.port = 0
    gateway.market.tickIntervalMs = tickIntervalMs
    gateway.pacing.messageRate = false
    let server = try await PaperGatewayServer.start(config: gateway)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("bench.lua")
    try source.write(to: file, atomically: true, encoding: .utf8)
    let journal = try Journal(path: folder.appendingPathComponent("journal.sqlite").path)
    let client = TWSClient(configuration: TWSClientConfiguration(host: "127.0.0.1", port: server.port, clientId: 1), idStore: journal)
    let state = try TradingState(client: client, journal: journal)
    client.start()
    try await client.waitUntilReady(timeout: 10)
    _ = await state.reconcile()
    let runner = StrategyRunner(client: client, state: state, journal: journal)
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    var config = HostConfig()
    config.strategy.budgetMs = 1000
    let strategy = try await Strategy.make(path: file.path, loop: group.next(), services: runner, config: config)
    let latencies = Latencies()
    try await strategy.loop.submit { strategy.quoteLatencyObserver = { _ = latencies.histogram.record($0) } }.get()
    runner.add(strategy)
    strategy.start(positions: [:])
    try await Task.sleep(for: .seconds(1))  // warm up
    let before = await strategy.currentStatistics()
    try await strategy.loop.submit { latencies.histogram.reset() }.get()
    let started = Date()
    try await Task.sleep(for: .seconds(seconds))
    let after = await strategy.currentStatistics()
    let elapsed = Date().timeIntervalSince(started)
    let (p50, p99, maximum, count) = try await strategy.loop.submit {
        (latencies.histogram.valueAtPercentile(50), latencies.histogram.valueAtPercentile(99), latencies.histogram.max,
         latencies.histogram.totalCount)
    }.get()
    let delivered = Double(after.quotesDelivered - before.quotesDelivered) / elapsed
    let coalesced = Double(after.quotesCoalesced - before.quotesCoalesced) / elapsed
    print(String(format: "%@: %.0f quotes/s into on_quote, %.0f/s coalesced; socket-to-handler latency p50 %.1f µs, p99 %.1f µs, max %.1f µs (%llu samples)",
                 label, delivered, coalesced, Double(p50) / 1000, Double(p99) / 1000, Double(maximum) / 1000, count))
    _ = await strategy.stop()
    runner.remove(strategy)
    await client.stop()
    try await server.shutdown()
    try await group.shutdownGracefully()
}

try await run(tickIntervalMs: 0, label: "full rate (tick_interval_ms 0)")
try await run(tickIntervalMs: 1, label: "1 ms steps (10 symbols)")
try await run(tickIntervalMs: 250, label: "IB cadence (250 ms)")
