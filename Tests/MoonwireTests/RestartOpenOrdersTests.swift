import Foundation
import Testing
@testable import Moonwire
@testable import PaperGateway

/// A run stops with an order resting; the next run on the same journal and the same paper
/// account (a gateway state file keeps it across the restart) gives the strategy that order
/// back: `orders.open()` and `orders.get(id)` with the id it got before, `orders.modify` and
/// `orders.cancel` work on it, and its on_order events reach the strategy.
@Suite("Restart with open orders", .timeLimit(.minutes(2)))
struct RestartOpenOrdersTests {
    /// A runtime on the journal and the gateway state file in `folder` (both kept across runs).
    static func start(_ folder: URL) async throws -> Embedded {
        var configuration = MoonwireConfiguration()
        configuration.paper.market.tickIntervalMs = 20
        configuration.paper.stateFile = folder.appendingPathComponent("gateway.sqlite").path
        configuration.journalPath = folder.appendingPathComponent("journal.sqlite").path
        configuration.controlChannel = false
        configuration.watchFiles = false
        configuration.connection.backoffBase = 0.1
        configuration.connection.connectTimeout = 10
        return Embedded(runtime: try await MoonwireRuntime.start(configuration), folder: folder)
    }

    static let first = """
        function on_start() market.subscribe("AAPL") end
        function on_quote(q)
          if placed or not q.bid then return end
          placed = true
          local id, err = orders.buy("AAPL", 5, { limit = math.floor(q.bid / 2), tif = "GTC" })
          log.info("placed " .. tostring(id) .. " " .. tostring(err and err.message))
          -- One further below, to fill after the restart.
          orders.buy("AAPL", 3, { limit = math.floor(q.bid / 2) - 10, tif = "GTC" })
        end
        function on_order(o) log.info(string.format("order %d %s", o.id, o.status)) end
        """

    static let second = """
        function on_start()
          local ids = {}
          for _, o in ipairs(orders.open()) do ids[#ids + 1] = o.id .. ":" .. o.status end
          log.info("open " .. table.concat(ids, ","))
          for _, o in ipairs(orders.open()) do
            if o.qty == 3 then goto continue end
            local got = orders.get(o.id)
            log.info("get " .. tostring(got and got.id) .. " limit " .. tostring(got and got.limit))
            target = o.limit - 1
            log.info("modify " .. tostring((orders.modify(o.id, { limit = target }))))
            ::continue::
          end
        end
        function on_fill(f) log.info(string.format("fill %d %d", f.order_id, f.qty)) end
        function on_order(o)
          log.info(string.format("order %d %s limit=%s", o.id, o.status, tostring(o.limit)))
          if o.status == "submitted" and o.limit == target and not cancelled then
            cancelled = true
            log.info("cancel " .. tostring((orders.cancel(o.id))))
          end
        end
        function on_error(e) log.info("error " .. e.code .. " " .. e.message) end
        """

    @Test("after a restart the strategy sees, modifies and cancels the orders it left open, and hears their fills")
    func restartWithOpenOrder() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-restart-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        let run1 = try await Self.start(folder)
        try await run1.runtime.addStrategy(file: try run1.write("keeper.lua", Self.first))
        let lines1 = try await run1.waitForLines("keeper") { $0.filter { $0.hasPrefix("order ") && $0.hasSuffix(" submitted") }.count == 2 }
        let placed = try #require(lines1.first { $0.hasPrefix("placed ") }?.split(separator: " ").dropFirst().first.flatMap { Int($0) })
        let filling = placed + 1
        _ = await run1.runtime.stop()

        let run2 = try await Self.start(folder)
        try await run2.runtime.addStrategy(file: try run2.write("keeper.lua", Self.second))
        let lines = try await run2.waitForLines("keeper") { $0.contains { $0.hasPrefix("order \(placed) cancelled") } }
        #expect(lines.contains("open \(placed):submitted,\(filling):submitted"), "orders.open() lists the orders of the last run: \(lines)")
        #expect(lines.contains { $0.hasPrefix("get \(placed) limit ") }, "orders.get(id) finds it: \(lines)")
        #expect(lines.contains("modify true"), "\(lines)")
        #expect(lines.contains("cancel true"), "\(lines)")
        // The gateway holds it cancelled, with the new limit.
        let atGateway = try await run2.runtime.paperGateway!.withEngine { engine in
            engine.orders.filter { $0.key.orderId == placed }.map { ($0.value.status, $0.value.order.lmtPrice ?? 0) }
        }
        #expect(atGateway.count == 1 && atGateway.first?.0 == "Cancelled", "\(atGateway)")
        let limit = lines.first { $0.hasPrefix("get \(placed) limit ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
        #expect(limit != nil && atGateway.first?.1 == limit.map { $0 - 1 }, "the gateway has the modified limit: \(atGateway) \(lines)")
        let snapshot = await run2.runtime.snapshot()
        #expect(snapshot.orders.filter { $0.orderId == placed }.map(\.status) == [.cancelled])
        // The other one fills now: on_fill and on_order reach the strategy.
        let price = try #require(limit) - 30
        _ = try await run2.runtime.paperGateway!.withEngine { $0.control(String(format: "price AAPL %.2f", price)) }
        let filled = try await run2.waitForLines("keeper") { $0.contains("order \(filling) filled limit=\(Double(Int(limit ?? 0) - 10))") }
        #expect(filled.contains("fill \(filling) 3"), "\(filled)")
        _ = await run2.runtime.stop()
    }
}
