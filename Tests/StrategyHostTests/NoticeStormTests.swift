import Foundation
import Testing
@testable import PaperGateway
@testable import StrategyHost
@testable import TradingState
import TWSProtocol

@Suite("Notice storms", .serialized)
struct NoticeStormTests {
    @Test("10,000 copies of notice 2110: a few reach on_error, the rest are counted and said once; order errors are never folded")
    func storm() async throws {
        let rig = try await Rig.start("""
            function on_error(e) print("on_error " .. e.code .. " " .. e.message) end
            """)
        try await rig.client.eventLoop.submit {
            for _ in 0..<10_000 {
                rig.state.handle(.error(id: -1, code: 2110, message: "Connectivity between Trader Workstation and server is broken.",
                                        category: .connectivity))
            }
        }.get()
        // The folded count is said when the window ends, after the few delivered: once it is
        // there, every on_error the storm will ever cause has run.
        try await eventually("the folded count, once the window ends (10 s after the first notice)", timeout: 60) {
            await rig.lines().contains { $0.contains("9995 more '2110' notices") }
        }
        let told = await rig.lines().filter { $0.hasPrefix("on_error 2110") && !$0.contains("more '2110' notices") }
        #expect(told.count == StrategyRunner.noticesPerWindow, "\(told.count) delivered")
        await rig.stop()
    }
}

extension NoticeStormTests {
    @Test("a hostile gateway: nextValidId 2^63-1 and 10,000 copies of 1102 after a 1100; the strategy still trades, with sane ids, one resubscription")
    func hostileGateway() async throws {
        let rig = try await Rig.start("""
            function on_start() market.subscribe("AAPL") end
            function on_quote(q) quotes = (quotes or 0) + 1 end
            function on_fill(f) print("filled " .. f.order_id) end
            function on_error(e) if e.code == "go" then local id = orders.buy("AAPL", 1) print("placed " .. tostring(id)) end end
            """)
        try await eventually("quotes") { await rig.statistics().quotesDelivered > 3 }
        try await rig.control("next-valid-id 9223372036854775807")
        try await rig.control("notice 1100 1")
        try await rig.control("notice 1102 10000")
        // The gateway wrote all of that before it answers a request sent now: once the answer is
        // in, the client has read and handled the id and the whole storm; the order comes after.
        #expect(try await rig.client.currentTime() > 0)
        rig.strategy.post(.error(code: "go", message: "place now", orderId: nil))
        try await eventually("the order fills") { await rig.lines().contains { $0.hasPrefix("filled ") } }
        let placed = await rig.lines().first { $0.hasPrefix("placed ") }
        let id = Int(placed?.dropFirst("placed ".count) ?? "") ?? -1
        #expect(id > 0 && id < Int(Int32.max), "a sane order id: \(placed ?? "none")")
        let connections = try await rig.journal.queue.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM connection_events WHERE kind LIKE 'connectivity%'") ?? 0
        }
        #expect(connections <= 2, "the storm is journaled once: \(connections) rows")
        let before = await rig.statistics().quotesDelivered
        try await eventually("quotes keep coming") { await rig.statistics().quotesDelivered > before + 3 }
        await rig.stop()
    }
}
