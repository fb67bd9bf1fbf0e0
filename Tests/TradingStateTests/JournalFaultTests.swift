import Foundation
import GRDB
import Testing
import TWSProtocol
@testable import PaperGateway
@testable import TWSClient
@testable import TradingState

/// Faults stay local: a journal that cannot be written closes trading, and trading reopens by
/// itself once it can be written again (and says so); a row the journal cannot hold refuses
/// that order (or skips that record) alone.
extension TradingStateTests {
    /// SQLite's own limit on the file's size, in pages: past it a write fails with SQLITE_FULL,
    /// as on a full disk (the test runs as root: permissions would not stop it).
    static func limitPages(_ journal: Journal, to pages: Int? = nil) throws {
        try journal.queue.writeWithoutTransaction { db in
            let now = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(pages ?? now)")
        }
    }

    static let resting = Order(action: "BUY", quantity: 1, type: "LMT", limit: 1.0, tif: "GTC")

    @Test("a full journal closes trading; once it has room again, trading reopens by itself and says so")
    func fullJournalReopens() async throws {
        try await withRig { rig in
            _ = await rig.state.reconcile()
            let events = Box<String>()
            rig.state.observe { event in
                switch event {
                case .journalFailed: events.add("failed")
                case .journalRestored: events.add("restored")
                default: break
                }
            }
            _ = try await rig.state.submit(contract: Contract(symbol: "AAPL"), order: Self.resting, strategy: "a")
            try Self.limitPages(rig.journal)
            // Orders until the file would have to grow: that one is refused, and trading closes.
            var refusal: Error?
            for _ in 0..<500 where refusal == nil {
                do {
                    _ = try await rig.state.submit(contract: Contract(symbol: "AAPL"), order: Self.resting, strategy: "a")
                } catch {
                    refusal = error
                }
            }
            let error = try #require(refusal, "the journal never filled up")
            #expect("\(error)".contains("full"), "\(error)")
            #expect(rig.state.journalFailure != nil)
            try await eventually("the consumers hear trading closed") { events.all == ["failed"] }
            #expect(await rig.state.snapshot().tradingAllowed == false)
            await #expect(throws: JournalError.self, "fail closed: every order is refused meanwhile") {
                _ = try await rig.state.submit(contract: Contract(symbol: "AAPL"), order: Self.resting, strategy: "b")
            }
            // Room again: nobody restarts anything.
            try Self.limitPages(rig.journal, to: 1_000_000)
            try await eventually("trading reopens by itself") { rig.state.journalFailure == nil }
            try await eventually("and says so") { events.all == ["failed", "restored"] }
            #expect(await rig.state.snapshot().tradingAllowed)
            let again = try await rig.state.submit(contract: Contract(symbol: "AAPL"), order: Self.resting, strategy: "b")
            #expect(again.status != .rejected)
            let recorded = try await rig.journal.queue.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM connection_events WHERE kind = 'journal failed'") ?? 0
            }
            #expect(recorded == 1, "the failure is in the journal once it can be written")
        }
    }

    @Test("an order with a field the journal cannot hold is refused alone: no journal failure, the next order goes")
    func badRowRefusedAlone() async throws {
        try await withRig { rig in
            _ = await rig.state.reconcile()
            await #expect(throws: JournalRowError.self) {
                _ = try await rig.state.submit(contract: Contract(symbol: "AAPL\u{1}"), order: Self.resting, strategy: "bad")
            }
            #expect(rig.state.journalFailure == nil, "one bad row closes nothing")
            #expect(await rig.state.snapshot().tradingAllowed)
            let good = try await rig.state.submit(contract: Contract(symbol: "AAPL"), order: Self.resting, strategy: "good")
            #expect(good.status == .submitted || good.status == .pending)
            #expect(try await rig.server.withEngine { $0.orders.count } == 1, "TWS never saw the bad one")
        }
    }

    @Test("a report from TWS the journal cannot hold is skipped alone: trading stays open, later writes go on")
    func badReportSkippedAlone() async throws {
        try await withRig { rig in
            _ = await rig.state.reconcile()
            // An order placed elsewhere whose orderRef has a character the journal's encoding refuses.
            var order = Self.resting
            order.orderId = 9_999
            order.permId = 424_242
            order.orderRef = "manual\u{7}"
            let report = OpenOrder(contract: Contract(symbol: "AAPL"), order: order, orderState: OrderState(status: "Submitted"))
            try await rig.client.eventLoop.submit { rig.state.handle(.openOrder(report)) }.get()
            let good = try await rig.state.submit(contract: Contract(symbol: "AAPL"), order: Self.resting, strategy: "good")
            try await eventually("the good order is journaled") {
                try await rig.journal.queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM orders WHERE client_key = ?", arguments: [good.clientKey]) } == 1
            }
            // The writer keeps order: the bad report was dealt with before the good order.
            #expect(rig.state.journalFailure == nil, "one bad report closes nothing")
            #expect(await rig.state.snapshot().tradingAllowed)
            let events = try await rig.journal.queue.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM connection_events WHERE kind = 'not journaled'") ?? 0
            }
            #expect(events == 1, "what was skipped is recorded")
        }
    }
}
