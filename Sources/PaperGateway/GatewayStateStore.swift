import Foundation
import PrivateFiles
import GRDB
import Money
import TWSProtocol

/// The paper account's memory: orders, executions, positions, cash and next order ids, in
/// a SQLite file (WAL), so they survive a gateway restart like a real paper account.
///
/// Orders and executions are stored as the wire payloads our codec writes (placeOrder and
/// execDetails/commissionReport at version 200), so the store needs no second schema of
/// IB's 150 order fields.
final class GatewayStateStore {
    let queue: DatabaseQueue
    let path: String

    init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.label = "paper-gateway-state"
        do {
            try Self.makePrivate(path)
            queue = try DatabaseQueue(path: path, configuration: configuration)
            // WAL with synchronous=NORMAL: a commit survives the process being killed (the crash
            // test SIGKILLs it); only a power loss may take the last commits back.
            _ = try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode=WAL")
                try db.execute(sql: "PRAGMA synchronous=NORMAL")
            }
            try migrator.migrate(queue)
        } catch {
            throw ConfigError(message: "paper_gateway.state_file: cannot open '\(path)' as a SQLite state file: \(error)")
        }
    }

    /// The paper account's orders and cash are the user's alone (see `PrivateDatabase`).
    static func makePrivate(_ path: String) throws {
        do {
            try PrivateDatabase.prepare(path)
        } catch let error as PrivateFileError {
            throw ConfigError(message: error.description)
        }
    }

    private var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "meta") { t in
                t.primaryKey("key", .text)
                t.column("value", .text).notNull()
            }
            try db.create(table: "next_ids") { t in
                t.primaryKey("client_id", .integer)
                t.column("next_id", .integer).notNull()
            }
            try db.create(table: "orders") { t in
                t.column("client_id", .integer).notNull()
                t.column("order_id", .integer).notNull()
                t.column("sequence", .integer).notNull()
                t.column("perm_id", .integer).notNull()
                t.column("request", .blob).notNull()
                t.column("status", .text).notNull()
                t.column("filled", .double).notNull()
                t.column("average_fill_price", .double).notNull()
                t.column("last_fill_price", .double).notNull()
                t.column("commission_paid", .double).notNull()
                t.column("triggered", .boolean).notNull()
                t.primaryKey(["client_id", "order_id"])
            }
            try db.create(table: "executions") { t in
                t.primaryKey("sequence", .integer)
                t.column("exec_id", .text).notNull().unique()
                t.column("time", .double).notNull()
                t.column("details", .blob).notNull()
                t.column("commission", .blob).notNull()
            }
            try db.create(table: "accounts") { t in
                t.primaryKey("id", .text)
                t.column("cash", .double).notNull()
                t.column("realized_pnl", .double).notNull()
            }
            try db.create(table: "holdings") { t in
                t.column("account", .text).notNull()
                t.column("symbol", .text).notNull()
                t.column("con_id", .integer).notNull()
                t.column("quantity", .double).notNull()
                t.column("average_cost", .double).notNull()
                t.primaryKey(["account", "symbol"])
            }
        }
        // Cash per currency (a forex trade moves two): the accounts table's cash is the total
        // in base, kept for a file read by an older gateway.
        migrator.registerMigration("v2 cash by currency") { db in
            try db.create(table: "account_cash") { t in
                t.column("account", .text).notNull()
                t.column("currency", .text).notNull()
                t.column("amount", .double).notNull()
                t.primaryKey(["account", "currency"])
            }
        }
        return migrator
    }

    static let version = 200

    func save(order paper: PaperOrder, sequence: Int, nextId: Int) throws {
        let request = try PlaceOrder(orderId: paper.orderId, contract: paper.contract, order: paper.order)
            .payload(serverVersion: Self.version, style: .python)
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO orders (client_id, order_id, sequence, perm_id, request, status, filled, average_fill_price,
                                    last_fill_price, commission_paid, triggered)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(client_id, order_id) DO UPDATE SET request = excluded.request, status = excluded.status,
                    filled = excluded.filled, average_fill_price = excluded.average_fill_price,
                    last_fill_price = excluded.last_fill_price, commission_paid = excluded.commission_paid,
                    triggered = excluded.triggered
                """, arguments: [paper.clientId, paper.orderId, sequence, paper.permId, Data(request), paper.status, paper.filled,
                                 paper.averageFillPrice, paper.lastFillPrice, paper.commissionPaid, paper.triggered])
            try db.execute(sql: """
                INSERT INTO next_ids (client_id, next_id) VALUES (?, ?)
                ON CONFLICT(client_id) DO UPDATE SET next_id = max(next_id, excluded.next_id)
                """, arguments: [paper.clientId, nextId])
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('next_perm_id', ?)", arguments: [String(paper.permId + 1)])
        }
    }

    func save(execution details: ExecDetails, commission: CommissionReport, time: Double, sequence: Int) throws {
        let detailsPayload = try ServerMessage.execDetails(details).payload(serverVersion: Self.version)
        let commissionPayload = try ServerMessage.commissionReport(commission).payload(serverVersion: Self.version)
        try queue.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO executions (sequence, exec_id, time, details, commission) VALUES (?, ?, ?, ?, ?)",
                           arguments: [sequence, details.execution.execId, time, Data(detailsPayload), Data(commissionPayload)])
        }
    }

    func save(accounts: [PaperAccount]) throws {
        try queue.write { db in
            for account in accounts {
                try db.execute(sql: "INSERT OR REPLACE INTO accounts (id, cash, realized_pnl) VALUES (?, ?, ?)",
                               arguments: [account.id, account.cash, account.realizedPnL])
                try db.execute(sql: "DELETE FROM holdings WHERE account = ?", arguments: [account.id])
                for holding in account.holdings.values {
                    try db.execute(sql: "INSERT INTO holdings (account, symbol, con_id, quantity, average_cost) VALUES (?, ?, ?, ?, ?)",
                                   arguments: [account.id, holding.symbol, holding.conId, holding.quantity, holding.averageCost])
                }
                try db.execute(sql: "DELETE FROM account_cash WHERE account = ?", arguments: [account.id])
                for (currency, amount) in account.cashByCurrency {
                    try db.execute(sql: "INSERT INTO account_cash (account, currency, amount) VALUES (?, ?, ?)",
                                   arguments: [account.id, currency, amount])
                }
            }
        }
    }

    func save(nextId: Int, clientId: Int) throws {
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO next_ids (client_id, next_id) VALUES (?, ?)
                ON CONFLICT(client_id) DO UPDATE SET next_id = max(next_id, excluded.next_id)
                """, arguments: [clientId, nextId])
        }
    }

    /// An account as the file keeps it (the gateway rebuilds its ledger with the instruments' terms).
    struct StoredAccount {
        var id: String
        /// The total in base: all an older file has.
        var baseCash: Double
        var realized: Double
        var cash: [String: Double] = [:]
        var holdings: [PaperAccount.Holding] = []
    }

    struct Snapshot {
        var orders: [PaperOrder] = []
        var executions: [(ExecDetails, CommissionReport, Double)] = []
        var accounts: [StoredAccount] = []
        var nextIds: [Int: Int] = [:]
        var nextPermId: Int64?
        var instanceId: UInt32?
    }

    func saveInstanceId(_ id: UInt32) {
        try? queue.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('instance_id', ?)", arguments: [String(id)])
        }
    }

    func load() throws -> Snapshot {
        try queue.read { db in
            var snapshot = Snapshot()
            for row in try Row.fetchAll(db, sql: "SELECT * FROM orders ORDER BY sequence") {
                let bytes = [UInt8](row["request"] as Data)
                guard case let .placeOrder(request) = try ClientRequest.decode(payload: bytes, serverVersion: Self.version) else { continue }
                var paper = PaperOrder(orderId: row["order_id"], clientId: row["client_id"], permId: row["perm_id"],
                                       contract: request.contract, order: request.order)
                paper.status = row["status"]
                paper.filled = row["filled"]
                paper.averageFillPrice = row["average_fill_price"]
                paper.lastFillPrice = row["last_fill_price"]
                paper.commissionPaid = row["commission_paid"]
                paper.triggered = row["triggered"]
                snapshot.orders.append(paper)
            }
            for row in try Row.fetchAll(db, sql: "SELECT * FROM executions ORDER BY sequence") {
                guard case let .execDetails(details) = try ServerMessage.decode(payload: [UInt8](row["details"] as Data), serverVersion: Self.version),
                      case let .commissionReport(report) = try ServerMessage.decode(payload: [UInt8](row["commission"] as Data), serverVersion: Self.version)
                else { continue }
                snapshot.executions.append((details, report, row["time"]))
            }
            for row in try Row.fetchAll(db, sql: "SELECT * FROM accounts") {
                var account = StoredAccount(id: row["id"], baseCash: row["cash"], realized: row["realized_pnl"])
                for cash in try Row.fetchAll(db, sql: "SELECT * FROM account_cash WHERE account = ?", arguments: [account.id]) {
                    account.cash[cash["currency"]] = cash["amount"]
                }
                for holding in try Row.fetchAll(db, sql: "SELECT * FROM holdings WHERE account = ?", arguments: [account.id]) {
                    account.holdings.append(PaperAccount.Holding(symbol: holding["symbol"], conId: holding["con_id"],
                                                                 quantity: holding["quantity"], averageCost: holding["average_cost"]))
                }
                snapshot.accounts.append(account)
            }
            for row in try Row.fetchAll(db, sql: "SELECT * FROM next_ids") { snapshot.nextIds[row["client_id"]] = row["next_id"] }
            if let text = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'next_perm_id'") { snapshot.nextPermId = Int64(text) }
            if let text = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'instance_id'") { snapshot.instanceId = UInt32(text) }
            return snapshot
        }
    }
}

extension GatewayEngine {
    func restore(from store: GatewayStateStore) throws {
        let snapshot = try store.load()
        for paper in snapshot.orders {
            let key = OrderKey(clientId: paper.clientId, orderId: paper.orderId)
            orders[key] = paper
            orderSequence.append(key)
        }
        compactFinishedOrders()
        for (details, report, time) in snapshot.executions {
            executions.append(ExecutionRecord(contract: details.contract, execution: details.execution, commission: report, time: time))
        }
        for stored in snapshot.accounts where accounts[stored.id] != nil {
            var account = PaperAccount(id: stored.id, cash: 0)
            for holding in stored.holdings {
                let terms = market.instrument(symbol: holding.symbol)?.terms ?? InstrumentTerms()
                account.place(symbol: holding.symbol, conId: holding.conId, terms: terms, quantity: holding.quantity,
                              averageCost: holding.averageCost)
            }
            account.restore(cash: stored.cash.isEmpty ? ["USD": stored.baseCash] : stored.cash, realized: stored.realized)
            accounts[stored.id] = account
        }
        nextValidIds = snapshot.nextIds
        if let permId = snapshot.nextPermId { nextPermId = max(nextPermId, permId) }
        if let id = snapshot.instanceId {
            instanceId = id
        } else {
            store.saveInstanceId(instanceId)
        }
        logger.info("restored \(orders.count) orders, \(executions.count) executions from \(store.path)")
    }

    func save(_ paper: PaperOrder) {
        guard let store else { return }
        do {
            // The permId grows with every order made (restored across restarts): the order of
            // creation without a search of the sequence, which compaction shortens.
            try store.save(order: paper, sequence: Int(clamping: paper.permId),
                           nextId: nextValidIds[paper.clientId] ?? paper.orderId + 1)
        } catch {
            logger.error("state file: could not save order \(paper.clientId)/\(paper.orderId): \(error)")
        }
    }

    func save(_ record: ExecutionRecord) {
        guard let store else { return }
        do {
            var details = ExecDetails(reqId: -1, contract: record.contract, execution: record.execution)
            details.contract.exchange = record.contract.exchange
            try store.save(execution: details, commission: record.commission, time: record.time, sequence: executions.count)
        } catch {
            logger.error("state file: could not save execution \(record.execution.execId): \(error)")
        }
    }

    func saveAccounts() {
        guard let store else { return }
        do {
            try store.save(accounts: Array(accounts.values))
        } catch {
            logger.error("state file: could not save the account: \(error)")
        }
    }
}
