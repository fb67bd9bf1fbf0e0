import Foundation
import GRDB
import Testing
import TWSProtocol
@testable import PaperGateway
@testable import StrategyHost
@testable import TradingState

/// Journal first through a strategy's `orders.buy` (the runner's order path): while another
/// connection holds the journal file's write lock, none of a burst of orders reaches the
/// gateway; once it lets go each does, its row in the journal file when the gateway reads it.
/// (TradingStateTests/JournalBeforeSendTests.swift holds the same through TradingState.submit.)
extension JournalFirstTests {
    @Test("a strategy's burst of 15 orders: none reaches the gateway while the journal cannot take it; each is journaled when it does")
    func strategyOrdersJournaledBeforeTheGatewaySeesThem() async throws {
        let rig = try await Rig.start("""
            function on_start() market.subscribe("AAPL") end
            function on_quote(q)
              if q.bid and not bid then print("ready") end
              bid = q.bid or bid
            end
            function on_error(e)
              if e.code ~= "go" then return end
              local placed = 0
              for i = 1, 15 do
                if orders.buy("AAPL", 1, { limit = math.floor(bid * 50) / 100 }) then placed = placed + 1 end
              end
              print("placed " .. placed)
            end
            """)
        do {
            try await eventually("a quote") { await rig.strategy.lines().contains("ready") }
            let receipts = try await ReceivedOrders.watch(rig.server, journal: rig.journal.path)
            let lock = try HeldJournalLock(rig.journal.path)
            receipts.journalHeld(true)
            do {
                rig.strategy.post(.error(code: "go", message: "place the burst", orderId: nil))
                try await eventually("the burst placed") { await rig.strategy.lines().contains("placed 15") }
                // The runner takes the first order at once: a send placed before its journal write
                // would come now. The first one, or 2 s of none, ends the wait (the journal's busy
                // timeout is 10 s); then one answer on the same socket: the gateway has read all
                // the client wrote before it.
                let quiet = ContinuousClock.now + .seconds(2)
                while receipts.all.isEmpty && ContinuousClock.now < quiet { try await Task.sleep(for: .milliseconds(10)) }
                _ = try await rig.client.currentTime()
            } catch {
                receipts.journalHeld(false)
                try lock.release()
                throw error
            }
            receipts.journalHeld(false)
            try lock.release()
            try await eventually("all 15 at the gateway and acknowledged") {
                let ours = await rig.state.snapshot().orders.filter { $0.strategy == "test_strategy" && $0.status == .submitted }
                return receipts.all.count >= 15 && ours.count == 15
            }
            let refs = await rig.state.snapshot().orders.filter { $0.strategy == "test_strategy" }.map(\.order.orderRef)
            let seen = receipts.all
            #expect(seen.map(\.orderRef).sorted() == refs.sorted(), "the gateway read each order once")
            let early = seen.filter(\.whileJournalHeld)
            #expect(early.isEmpty, "\(early.count) orders reached the gateway while the journal could not take them: \(early.map(\.orderId))")
            let unjournaled = seen.filter { $0.journaledId != $0.orderId }
            let described = unjournaled.prefix(5).map { "\($0.orderId) \($0.problem ?? "no row")" }
            #expect(unjournaled.isEmpty, "\(unjournaled.count) orders reached the gateway before the journal held them: \(described)")
        } catch {
            await rig.stop()
            throw error
        }
        await rig.stop()
    }
}

// The two helpers below are TradingStateTests' PlaceOrderReceipts and JournalWriteLock (test
// targets share no code).

/// What the paper gateway saw of each placeOrder as it read it off the socket, before handling
/// it: whether the journal file (read through a connection of its own) held the order's row then.
final class ReceivedOrders: @unchecked Sendable {
    struct Receipt: Sendable {
        var orderId: Int
        var orderRef: String
        /// The order id of the journal's row for the order's client key; nil when it had none.
        var journaledId: Int?
        var problem: String?
        var whileJournalHeld: Bool
    }

    private let lock = NSLock()
    private var receipts: [Receipt] = []
    private var held = false
    private let reader: DatabaseQueue

    private init(journal path: String) throws {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        reader = try DatabaseQueue(path: path, configuration: configuration)
    }

    static func watch(_ server: PaperGatewayServer, journal path: String) async throws -> ReceivedOrders {
        let receipts = try ReceivedOrders(journal: path)
        try await server.withEngine { engine in engine.placeOrderReceived = { receipts.check($0) } }
        return receipts
    }

    var all: [Receipt] { lock.withLock { receipts } }
    func journalHeld(_ on: Bool) { lock.withLock { held = on } }

    /// On the gateway's loop, before it answers the order.
    private func check(_ request: PlaceOrder) {
        var journaledId: Int?
        var problem: String?
        if let key = OrderRecord.clientKey(fromOrderRef: request.order.orderRef) {
            do {
                journaledId = try reader.read { db in try Int.fetchOne(db, sql: "SELECT order_id FROM orders WHERE client_key = ?", arguments: [key]) }
            } catch {
                problem = "the journal could not be read: \(error)"
            }
        } else {
            problem = "orderRef '\(request.order.orderRef)' carries no client key"
        }
        lock.withLock {
            receipts.append(Receipt(orderId: request.orderId, orderRef: request.order.orderRef, journaledId: journaledId, problem: problem,
                                    whileJournalHeld: held))
        }
    }
}

/// The journal file's write lock, held by a connection of its own (`BEGIN IMMEDIATE`) as a
/// second writer would: the journal's writes wait for it (its busy timeout is 10 s), readers do not.
final class HeldJournalLock {
    private let holder: DatabaseQueue
    private var released = false

    init(_ path: String) throws {
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true  // the transaction outlives this call, on purpose
        configuration.busyMode = .timeout(5)
        holder = try DatabaseQueue(path: path, configuration: configuration)
        try holder.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
    }

    func release() throws {
        guard !released else { return }
        released = true
        try holder.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
    }

    deinit { try? release() }
}
