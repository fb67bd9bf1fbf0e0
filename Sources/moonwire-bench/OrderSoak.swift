import Foundation
import NIOPosix
import PaperGateway
import StrategyHost
import TWSClient
import TradingState

/// The order soak: a Lua strategy places a resting limit order and cancels it, `total` times,
/// against the in-process paper gateway (the whole path: strategy, risk gate, runner,
/// journal, client, socket, gateway, and back). RSS of this process (run + gateway) at the
/// start and end of every 10,000 orders: memory must stay flat in the number of orders
/// (within 10 % after the first block's warm-up). Unit: orders placed and cancelled.
func orderSoak(total: Int) async throws {
    var gateway = PaperGatewayConfig()
    gateway.port = 0
    gateway.market.tickIntervalMs = 250
    gateway.pacing.messageRate = false
    gateway.instruments = Array(Instrument.defaultUniverse.prefix(10))
    let server = try await PaperGatewayServer.start(config: gateway)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-soak-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("soak.lua")
    // Each signal: cancel the last order, place the next (far below the market: never fills).
    try """
        function on_start() market.subscribe("AAPL") end
        function on_signal(n)
          if last then orders.cancel(last) end
          last = orders.buy("AAPL", 1, { limit = 1.00 })
        end
        """.write(to: file, atomically: true, encoding: .utf8)
    let journal = try Journal(path: folder.appendingPathComponent("journal.sqlite").path)
    var clientConfig = TWSClientConfiguration(host: "127.0.0.1", port: server.port, clientId: 1)
    clientConfig.messagesPerSecond = 100_000
    let client = TWSClient(configuration: clientConfig, idStore: journal)
    let state = try TradingState(client: client, journal: journal)
    client.start()
    try await client.waitUntilReady(timeout: 10)
    _ = await state.reconcile()
    var config = HostConfig()
    config.risk.maxOrdersPerMinute = 1_000_000
    config.accountRisk.maxOrdersPerMinute = 1_000_000
    config.risk.maxOpenOrders = 1_000_000
    config.accountRisk.maxOpenOrders = 1_000_000
    let runner = StrategyRunner(client: client, state: state, journal: journal, accountLimits: config.accountRisk)
    let strategy = try await runner.launch(path: file.path, config: config)
    strategy.start(positions: [:], orders: [])
    func placedAtGateway() async throws -> Int64 { try await server.withEngine { $0.nextPermanentId } }
    let firstPermId = try await placedAtGateway()
    print("order soak: \(total) orders placed and cancelled by a Lua strategy through the paper gateway (RSS of run + gateway)")
    let started = Date()
    var sent = 0
    var firstBlockEnd: Double?
    var worst = 0.0
    while sent < total {
        let blockStart = residentMegabytes()
        let blockStarted = Date()
        let blockEnd = min(sent + 10_000, total)
        while sent < blockEnd {
            let batch = min(200, blockEnd - sent)
            for _ in 0..<batch { _ = runner.post(handler: "on_signal", values: [.integer(Int64(sent))], to: strategy.name) }
            sent += batch
            // Flow control: the gateway has seen all of them before more go.
            let deadline = Date().addingTimeInterval(60)
            while try await placedAtGateway() - firstPermId < Int64(sent) {
                guard Date() < deadline else { throw SoakError("the gateway saw \(try await placedAtGateway() - firstPermId) of \(sent) orders after 60 s") }
                try await Task.sleep(for: .milliseconds(2))
            }
        }
        let end = residentMegabytes()
        let held = try await server.withEngine { $0.ordersInMemory }
        let rate = Double(blockEnd % 10_000 == 0 ? 10_000 : blockEnd % 10_000) / Date().timeIntervalSince(blockStarted)
        if let reference = firstBlockEnd { worst = max(worst, (end - reference) / reference) } else { firstBlockEnd = end }
        print(String(format: "  orders %6d-%6d: RSS %.1f -> %.1f MB, %.0f orders/s, %d orders held by the gateway", blockEnd - 10_000 + 1, blockEnd, blockStart, end, rate, held))
    }
    let elapsed = Date().timeIntervalSince(started)
    print(String(format: "order soak: %d orders in %.1f s (%.0f orders placed and cancelled/s); RSS growth after the first block: %.1f %% (target <= 10 %%)",
                 total, elapsed, Double(total) / elapsed, worst * 100))
    _ = await runner.stopAll()
    await client.stop()
    try await server.shutdown()
}

struct SoakError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// This process's resident set (VmRSS), in MB.
func residentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
    else { return 0 }
    let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    return kilobytes / 1024
}
