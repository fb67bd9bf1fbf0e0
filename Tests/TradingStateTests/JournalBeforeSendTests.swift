import Foundation
import GRDB
import NIOCore
import Testing
import TWSProtocol
@testable import PaperGateway
@testable import TWSClient
@testable import TradingState

/// Journal first, checked where the promise is made: when the gateway reads an order's
/// placeOrder, the journal file already holds that order's row. The gateway's hook reads the
/// file through a connection of its own, as a restarted process would.
///
/// A burst shows it for many orders; but a send placed before the journal write only usually
/// loses the race to it (the write takes a millisecond: Scripts/mutation-smoke's journal-first
/// flip was caught 4 runs in 8), so the second test makes the journal slow on purpose: another
/// connection holds its write lock while the first order is made. Nothing may reach the
/// gateway then; a send placed ahead of the journal write does, every time.
extension TradingStateTests {
    static let restingOrder = Order(action: "BUY", quantity: 1, type: "LMT", limit: 1.0, tif: "GTC")

    @Test("a burst of 50 orders: each one's row is in the journal file when its placeOrder reaches the gateway")
    func journaledBeforeTheGatewaySeesIt() async throws {
        let path = temporaryPath("journal-first")
        try await withRig(journalPath: path) { rig in
            let receipts = try await PlaceOrderReceipts.watch(rig.server, journal: path)
            let records = try await Self.placeInOrder(rig, ids: Self.reserveIds(rig, 50), strategy: "burst")
            // Each order was acknowledged, which TWS does after reading it.
            receipts.expectEachJournaledOnArrival(records.map(\.order.orderRef))
        }
    }

    static func reserveIds(_ rig: Rig, _ count: Int) async throws -> [Int] {
        var ids: [Int] = []
        for _ in 0..<count { ids.append(try await rig.client.reserveId()) }
        return ids
    }

    /// Begins every order before awaiting any answer (a burst), one after the other: TWS
    /// refuses an order id below one it has seen (103), so they must leave in id order.
    static func placeInOrder(_ rig: Rig, ids: [Int], strategy: String) async throws -> [OrderRecord] {
        var answers: [EventLoopFuture<OrderRecord>] = []
        for id in ids {
            answers.append(try await rig.state.beginSubmit(contract: Contract(symbol: "AAPL"), order: restingOrder, strategy: strategy, id: id))
        }
        var records: [OrderRecord] = []
        for answer in answers { records.append(try await answer.get()) }
        return records
    }

    @Test("while another connection holds the journal's write lock no order reaches the gateway; once it lets go, all 50 do, each journaled first")
    func nothingLeavesWhileTheJournalWaits() async throws {
        let path = temporaryPath("journal-held")
        try await withRig(journalPath: path) { rig in
            let receipts = try await PlaceOrderReceipts.watch(rig.server, journal: path)
            // Ids taken now: a new block of ids is written to the journal, and would wait for the lock.
            let ids = try await Self.reserveIds(rig, 50)
            func ordersMade() async throws -> Int { try await rig.state.loop.submit { rig.state.keySequence }.get() }
            let before = try await ordersMade()

            let lock = try JournalWriteLock(path)
            receipts.journalHeld(true)
            let submitted = Task { try await Self.placeInOrder(rig, ids: ids, strategy: "held") }
            do {
                // The first order has its client key: it is on its way, to the journal first, which
                // waits (the next ones begin once it is queued for sending).
                try await eventually("the first order made", timeout: 5) { try await ordersMade() > before }
                // A send placed before the journal write would come now (nothing holds it up): the
                // first one, or 2 s of none, ends the wait (the journal's busy timeout is 10 s).
                let quiet = ContinuousClock.now + .seconds(2)
                while receipts.all.isEmpty && ContinuousClock.now < quiet { try await Task.sleep(for: .milliseconds(10)) }
                // One socket, read in order: once this is answered, the gateway has read all the
                // client wrote before it.
                _ = try await rig.client.currentTime()
            } catch {
                receipts.journalHeld(false)
                try lock.release()
                throw error
            }
            receipts.journalHeld(false)
            try lock.release()
            let records = try await submitted.value
            let early = receipts.all.filter(\.whileJournalHeld)
            #expect(early.isEmpty, "\(early.count) orders reached the gateway while the journal could not take them: \(early.prefix(5).map(\.orderId))")
            receipts.expectEachJournaledOnArrival(records.map(\.order.orderRef))
        }
    }
}

/// What the paper gateway saw of each placeOrder as it read it off the socket, before handling
/// it: whether the journal file held the order's row then.
final class PlaceOrderReceipts: @unchecked Sendable {
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

    /// Hooks into `server`: from now on every placeOrder it reads is checked against the journal at `path`.
    static func watch(_ server: PaperGatewayServer, journal path: String) async throws -> PlaceOrderReceipts {
        let receipts = try PlaceOrderReceipts(journal: path)
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

    /// Each of `refs` reached the gateway once, and its row (under the same order id) was in the journal then.
    func expectEachJournaledOnArrival(_ refs: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let seen = all
        #expect(seen.map(\.orderRef).sorted() == refs.sorted(), "the gateway read each order once", sourceLocation: sourceLocation)
        let early = seen.filter { $0.journaledId != $0.orderId }
        #expect(early.isEmpty, """
            \(early.count) of \(seen.count) orders reached the gateway before the journal held them: \
            \(early.prefix(5).map { "\($0.orderId) \($0.problem ?? "no row")" })
            """, sourceLocation: sourceLocation)
    }
}

/// The journal file's write lock, held by a connection of its own (`BEGIN IMMEDIATE`) as a
/// second writer would: the journal's writes wait for it (its busy timeout is 10 s), readers
/// do not.
final class JournalWriteLock {
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
