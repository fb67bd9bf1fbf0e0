import Foundation
import GRDB
import Testing
import TWSProtocol
@testable import Moonwire
@testable import PaperGateway
@testable import StrategyHost
@testable import TradingState

/// A strategy starts from what the journal has delivered, not from the trading state's
/// newest picture: an execution the journal writer still holds is either in the starting
/// book or heard as a fill, never both (100 shares never read as 200). `store` writes go
/// through the journal like everything else: a failed write closes trading, waits in order
/// and is written once the journal takes writes again. Shutdown drains the writer, and says
/// when it could not.
@Suite("Start from the journal's delivered state; store writes journaled", .serialized, .timeLimit(.minutes(2)))
struct DeliveredStartTests {
    /// Makes every write of the journal fail (SQLITE_READONLY: a storage fault), or lets them through again.
    static func readOnly(_ journal: Journal, _ on: Bool) async throws {
        try await journal.queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA query_only = \(on ? 1 : 0)") }
    }

    static func embedded() async throws -> Embedded {
        try await Embedded.start { configuration in
            configuration.host.risk.maxOrdersPerMinute = 100_000
            configuration.host.accountRisk.maxOrdersPerMinute = 100_000
        }
    }

    /// Counts what it holds from its starting position plus every fill it hears.
    static let buyer = """
        held = 0; fills = 0; events = {}
        function on_start()
          local p = account.position("AAPL")
          held = p and p.qty or 0
          events[#events + 1] = "start"
          print("start held=" .. held .. " events=" .. table.concat(events, ","))
        end
        function on_fill(f) fills = fills + 1; held = held + f.qty; events[#events + 1] = "fill" end
        function on_check()
          local p = account.position("AAPL")
          print(string.format("check held=%d fills=%d position=%d first=%s", held, fills, p and p.qty or 0, events[1]))
        end
        """

    @Test("a fill the journal has not delivered at the start is counted once: in the starting book or as a fill, and on_start comes first")
    func fillInFlightAtStart() async throws {
        let embedded = try await Self.embedded()
        let runtime = embedded.runtime
        let gateway = try #require(runtime.paperGateway)
        let last = try await gateway.withEngine { $0.market.quote(symbol: "AAPL")?.last ?? 0 }
        let limit = (last * 0.9 * 100).rounded() / 100
        // An order of `buyer` (journaled under its name), resting until the price comes down.
        let id = try runtime.runner.submitNew(contract: Contract(symbol: "AAPL"), order: Order(action: "BUY", quantity: 100, type: "LMT", limit: limit),
                                              strategy: "buyer")
        try await embedded.waitForState("the order rests") { $0.orders.contains { $0.orderId == id && $0.status == .submitted } }
        // The journal stops taking writes: the fill is in the trading state, not delivered.
        try await Self.readOnly(runtime.journal, true)
        try await gateway.withEngine { engine in _ = engine.control("price AAPL \(String(format: "%.2f", limit - 1))") }
        try await embedded.waitForState("the fill reached the trading state") { $0.executions.contains { $0.orderId == id } }
        try await runtime.addStrategy(file: try embedded.write("buyer.lua", Self.buyer))
        try await Self.readOnly(runtime.journal, false)
        let deadline = Date().addingTimeInterval(30)
        while runtime.orderFlowClosed != nil, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(runtime.orderFlowClosed == nil, "the journal takes writes again: trading reopens")
        try await embedded.waitForLines("buyer") { $0.contains { $0.hasPrefix("start ") } }
        _ = try runtime.post("on_check", to: "buyer")
        let lines = try await embedded.waitForLines("buyer") { $0.contains { $0.hasPrefix("check ") } }
        let check = lines.first { $0.hasPrefix("check ") } ?? ""
        #expect(check.contains("held=100 ") && check.contains("position=100 "), "100 shares bought, counted once: \(lines)")
        #expect(check.hasSuffix("first=start"), "on_start before any other handler: \(lines)")
        _ = await embedded.stop()
    }

    /// Writes `store.n` when the test posts `on_put`.
    static let keeper = """
        function on_put(n) store.n = n; print("put " .. n) end
        function on_error(e) print("on_error " .. e.code .. " " .. e.message) end
        """

    static func storedN(_ journal: Journal) -> String? {
        journal.loadStore(strategy: "keeper").map { String(decoding: $0, as: UTF8.self) }
    }

    @Test("a store write the journal refuses closes trading, tells the strategy, and is written in order once it can be")
    func storeWriteOnReadOnlyJournal() async throws {
        let embedded = try await Self.embedded()
        let runtime = embedded.runtime
        try await runtime.addStrategy(file: try embedded.write("keeper.lua", Self.keeper))
        _ = try runtime.post("on_put", [.integer(1)], to: "keeper")
        try await embedded.waitForLines("keeper") { $0.contains("put 1") }
        let deadline1 = Date().addingTimeInterval(10)
        while Self.storedN(runtime.journal)?.contains("1") != true, Date() < deadline1 { try await Task.sleep(for: .milliseconds(20)) }
        try await Self.readOnly(runtime.journal, true)
        _ = try runtime.post("on_put", [.integer(2)], to: "keeper")
        _ = try runtime.post("on_put", [.integer(3)], to: "keeper")
        let told = try await embedded.waitForLines("keeper", seconds: 10) { lines in
            lines.contains("put 3") && lines.contains { $0.hasPrefix("on_error journal") || $0.hasPrefix("on_error store") }
        }
        #expect(runtime.orderFlowClosed?.code == "journal", "a store the journal cannot hold closes trading as any journal failure does: \(told)")
        #expect(Self.storedN(runtime.journal)?.contains("1") == true)
        try await Self.readOnly(runtime.journal, false)
        // Written once the journal takes writes again, in order: the last one wins, without another change.
        let deadline2 = Date().addingTimeInterval(20)
        while Self.storedN(runtime.journal)?.contains("3") != true, Date() < deadline2 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(Self.storedN(runtime.journal)?.contains("3") == true, "the store waited and was written: \(Self.storedN(runtime.journal) ?? "nil")")
        _ = await embedded.stop()
    }

    @Test("shutdown drains the journal writer within its bound and says what it could not write")
    func shutdownSaysWhatWasNotWritten() async throws {
        let embedded = try await Self.embedded()
        let runtime = embedded.runtime
        try await runtime.addStrategy(file: try embedded.write("keeper.lua", Self.keeper))
        try await Self.readOnly(runtime.journal, true)
        _ = try runtime.post("on_put", [.integer(7)], to: "keeper")
        try await embedded.waitForLines("keeper") { $0.contains("put 7") }
        let started = Date()
        let summary = await embedded.stop()
        #expect(Date().timeIntervalSince(started) < 20, "bounded")
        #expect(summary.text.contains("journal") && summary.text.contains("not written"), "the summary says the journal kept a backlog: \(summary.text)")
    }
}
