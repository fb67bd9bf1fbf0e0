// moonwire-bench: what a Lua strategy received from the paper gateway (run by Scripts/bench,
// release build; never a timed unit test): on_quote calls/s; ticks drained/s, the
// tickPrice/tickSize/tickString messages read from the socket and folded into the quotes
// on_quote was given; and the latency from the socket read of a quote's oldest folded tick
// to the entry of on_quote.
//
//     moonwire-bench [SECONDS] [all|reload|floor|full|100k|host|ib|orders]
//     (orders: the order soak, OrderSoak.swift; MOONWIRE_SOAK_ORDERS orders, 100,000 by default)
import Dispatch
import Foundation
import Histogram
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PaperGateway
import StrategyHost
import TWSClient
import TWSProtocol
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

/// Touched on the strategy's loop only.
final class ReloadTimes: @unchecked Sendable {
    var count = 0
    var last: UInt64 = 0
}

final class Latencies: @unchecked Sendable {
    var histogram = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
}

/// Counts quotes into on_quote (and socket-to-handler latency) for `seconds`. With `direct`,
/// quotes for 100 symbols are posted straight into the strategy from another thread as fast
/// as it takes them (no socket, no gateway): the host's own capacity.
func run(tickIntervalMs: Double, label: String, direct: Bool = false) async throws {
    var gateway = PaperGatewayConfig()
    gateway.port = 0
    gateway.market.tickIntervalMs = tickIntervalMs
    gateway.pacing.messageRate = false
    // The ten stocks the strategy follows: the same market as earlier measurements (the
    // futures, forex and option chain would only add work the strategy never sees).
    gateway.instruments = Array(Instrument.defaultUniverse.prefix(10))
    let server = try await PaperGatewayServer.start(config: gateway)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("bench.lua")
    try (direct ? "count = 0\nfunction on_quote(q) count = count + 1 end" : source).write(to: file, atomically: true, encoding: .utf8)
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
    // Direct feed: the producer keeps at most two rounds of 100 quotes in flight (a round is
    // signalled back when its last quote reached on_quote).
    let roundDone = DispatchSemaphore(value: 1)
    try await strategy.loop.submit {
        var handled = 0
        strategy.quoteLatencyObserver = {
            _ = latencies.histogram.record($0)
            handled += 1
            if direct && handled % 100 == 0 { roundDone.signal() }
        }
    }.get()
    runner.add(strategy)
    strategy.start(positions: [:])
    let producing = NIOLockedValueBox(direct)
    if direct {
        Thread.detachNewThread {
            var quotes = (0..<100).map { index -> MarketQuote in
                var quote = MarketQuote(symbol: "S\(index)")
                quote.bid = 100
                quote.ask = 100.01
                quote.ticks = 1
                return quote
            }
            var round = 0
            while producing.withLockedValue({ $0 }) {
                // Paced by on_quote: the figure is its rate, not coalescing's.
                guard roundDone.wait(timeout: .now() + .milliseconds(100)) == .success else { continue }
                for index in quotes.indices {
                    quotes[index].bid = 100 + Double(round % 100) / 100
                    quotes[index].receivedAt = DispatchTime.now().uptimeNanoseconds
                    strategy.post(quote: quotes[index])
                }
                round += 1
            }
        }
    }
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
    let ticks = Double(after.ticksDelivered - before.ticksDelivered) / elapsed
    let delivered = Double(after.quotesDelivered - before.quotesDelivered) / elapsed
    let coalesced = Double(after.quotesCoalesced - before.quotesCoalesced) / elapsed
    print(String(format: "%@: %.0f on_quote calls/s, %.0f ticks drained/s (folded into those quotes; %.0f quotes/s coalesced); socket read of the oldest tick to on_quote: p50 %.1f µs, p99 %.1f µs, max %.1f µs (%llu samples)",
                 label, delivered, ticks, coalesced, Double(p50) / 1000, Double(p99) / 1000, Double(maximum) / 1000, count))
    producing.withLockedValue { $0 = false }
    _ = await strategy.stop()
    runner.remove(strategy)
    await client.stop()
    try await server.shutdown()
    try await group.shutdownGracefully()
}

/// Hot reload: time from the file's write to the new code handling its first event
/// (on_reload), over 100 saves through the real file watcher.
func reloads() async throws {
    var gateway = PaperGatewayConfig()
    gateway.port = 0
    let server = try await PaperGatewayServer.start(config: gateway)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-reload-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("reload.lua")
    try "function on_quote(q) end".write(to: file, atomically: true, encoding: .utf8)
    let journal = try Journal(path: folder.appendingPathComponent("journal.sqlite").path)
    let client = TWSClient(configuration: TWSClientConfiguration(host: "127.0.0.1", port: server.port, clientId: 1), idStore: journal)
    let state = try TradingState(client: client, journal: journal)
    client.start()
    try await client.waitUntilReady(timeout: 10)
    let runner = StrategyRunner(client: client, state: state, journal: journal)
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let strategy = try await Strategy.make(path: file.path, loop: group.next(), services: runner, config: HostConfig())
    runner.add(strategy)
    let done = ReloadTimes()
    try await strategy.loop.submit { strategy.onReload = { _ in done.count += 1; done.last = DispatchTime.now().uptimeNanoseconds } }.get()
    let watcher = try FileWatcher { _ in strategy.fileChanged() }
    try watcher.watch(file.path)
    var latencies = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
    for version in 1...100 {
        let before = try await strategy.loop.submit { done.count }.get()
        let written = DispatchTime.now().uptimeNanoseconds
        try "function on_reload() v = \(version) end".write(to: file, atomically: true, encoding: .utf8)
        var finished: UInt64 = 0
        for _ in 0..<400 {
            try await Task.sleep(for: .milliseconds(1))
            let (count, last) = try await strategy.loop.submit { (done.count, done.last) }.get()
            if count > before { finished = last; break }
        }
        if finished > written { _ = latencies.record(finished - written) }
    }
    watcher.stop()
    print(String(format: "hot reload, write to first event in the new code: p50 %.1f ms, max %.1f ms over %llu reloads (includes the 10 ms debounce; target p50 <= 20 ms)",
                 Double(latencies.valueAtPercentile(50)) / 1e6, Double(latencies.max) / 1e6, latencies.totalCount))
    runner.remove(strategy)
    await client.stop()
    try await server.shutdown()
    try await group.shutdownGracefully()
}

/// The platform's floor under socket-to-handler latency: one bare hop from an event loop to
/// another (SwiftNIO `execute`, nothing else), at the cadence of the 100 k ticks/s run. Every
/// quote makes this hop (the client's loop to the strategy's), so no figure above can beat it.
func hopFloor() async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    let from = group.next(), to = group.next()
    let samples = NIOLockedValueBox(Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three))
    let task = from.scheduleRepeatedTask(initialDelay: .microseconds(65), delay: .microseconds(65)) { _ in
        let sent = DispatchTime.now().uptimeNanoseconds
        to.execute { samples.withLockedValue { _ = $0.record(DispatchTime.now().uptimeNanoseconds - sent) } }
    }
    try await Task.sleep(for: .seconds(seconds))
    task.cancel()
    try await group.shutdownGracefully()
    let histogram = samples.withLockedValue { $0 }
    print(String(format: "platform floor, one event-loop hop every 65 µs (no work): p50 %.1f µs, p99 %.1f µs (%llu samples)",
                 Double(histogram.valueAtPercentile(50)) / 1000, Double(histogram.valueAtPercentile(99)) / 1000, histogram.totalCount))
}

let phase = CommandLine.arguments.count > 2 ? CommandLine.arguments[2] : "all"
if phase == "all" || phase == "floor" { try await hopFloor() }
if phase == "all" || phase == "reload" { try await reloads() }
if phase == "all" || phase == "full" { try await run(tickIntervalMs: 0, label: "full rate (tick_interval_ms 0)") }
if phase == "all" || phase == "100k" { try await run(tickIntervalMs: 0.65, label: "100 k ticks/s (10 symbols every 0.65 ms)") }
if phase == "all" || phase == "host" {
    try await run(tickIntervalMs: 250, label: "strategy host alone (quotes posted from another thread, no socket)", direct: true)
}
if phase == "orders" { try await orderSoak(total: Int(ProcessInfo.processInfo.environment["MOONWIRE_SOAK_ORDERS"] ?? "") ?? 100_000) }
if phase == "all" || phase == "ib" { try await run(tickIntervalMs: 250, label: "IB cadence (250 ms)") }
