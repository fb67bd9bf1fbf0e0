import Foundation
import GRDB
import TWSClient
import TWSProtocol

/// The SQLite journal (GRDB, WAL): what happened, written before anyone is told.
///
/// Orders are journaled with their client key *before* they are sent, so after a crash the
/// key (carried to TWS in `orderRef`) finds them again: never sent twice, never orphaned.
/// Executions are keyed by execId, so a fill reported twice is stored once.
public final class Journal: IdStore, @unchecked Sendable {
    public let queue: DatabaseQueue
    public let path: String

    /// The file that says this process has the journal open (removed when it closes it).
    private let openMarker: String

    /// Opens (or creates) the journal, refusing one that cannot be trusted rather than
    /// starting over silently: a file that exists but is empty, one that fails SQLite's
    /// integrity check, or one left open by a process that died whose write-ahead log (the
    /// last commits) is missing or empty.
    public init(path: String) throws {
        self.path = path
        self.openMarker = path + ".open.\(getpid())"
        try Self.checkBeforeOpening(path)
        let created = try Self.makePrivate(path)
        do {
            var configuration = Configuration()
            // Several runs may share a journal (each keeps to its own account): wait for a
            // writer instead of failing.
            configuration.busyMode = .timeout(10)
            queue = try DatabaseQueue(path: path, configuration: configuration)
            // WAL with synchronous=NORMAL: a commit survives the process being killed (the crash
            // test SIGKILLs it); only a power loss may take the last commits back.
            _ = try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode=WAL")
                try db.execute(sql: "PRAGMA synchronous=NORMAL")
            }
            try Self.migrator.migrate(queue)
        } catch {
            if created { Self.removeIfEmpty(path) }
            throw JournalError(message: "journal '\(path)': cannot open: \(error)")
        }
        let check = (try? queue.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }) ?? ["the check could not run"]
        guard check == ["ok"] else {
            throw JournalError(message: "journal '\(path)' is damaged (SQLite's integrity check: \(check.prefix(3).joined(separator: "; "))). "
                + "Nothing was changed. Keep a copy of it, then start a new journal deliberately (--journal NEW.sqlite) or restore a backup")
        }
        Self.removeStaleMarkers(path)
        _ = FileManager.default.createFile(atPath: openMarker, contents: Data("\(getpid())".utf8), attributes: [.posixPermissions: 0o600])
    }

    deinit { close() }

    /// Says the journal was closed cleanly (a later open does not look for lost commits).
    public func close() {
        try? FileManager.default.removeItem(atPath: openMarker)
    }

    /// Markers `PATH.open.PID` of processes that no longer run.
    private static func staleMarkers(_ path: String) -> [String] {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let prefix = URL(fileURLWithPath: path).lastPathComponent + ".open."
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
        return names.compactMap { name -> String? in
            guard name.hasPrefix(prefix), let pid = Int32(name.dropFirst(prefix.count)) else { return nil }
            let alive = kill(pid, 0) == 0 || errno == EPERM
            return alive && pid != getpid() ? nil : (folder.isEmpty ? name : folder + "/" + name)
        }
    }

    private static func removeStaleMarkers(_ path: String) {
        for marker in staleMarkers(path) { try? FileManager.default.removeItem(atPath: marker) }
    }

    private static func checkBeforeOpening(_ path: String) throws {
        let files = FileManager.default
        guard files.fileExists(atPath: path) else { return }  // a new journal
        let size = (try? files.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        if size == 0 {
            throw JournalError(message: "journal '\(path)' exists but is empty (0 bytes): it was truncated, or never written. "
                + "Nothing was changed. If it held orders and fills, restore it from a backup; to start a new journal deliberately, "
                + "delete it or pass another --journal")
        }
        // A process that had it open died: its last commits are in the write-ahead log.
        if !staleMarkers(path).isEmpty {
            let wal = path + "-wal"
            let walSize = (try? files.attributesOfItem(atPath: wal)[.size] as? Int) ?? nil
            if walSize == nil || walSize == 0 {
                throw JournalError(message: "journal '\(path)' was not closed cleanly and its write-ahead log (\(wal)) is "
                    + (walSize == nil ? "missing" : "empty") + ": the last orders and fills it recorded may be lost. Nothing was changed. "
                    + "Keep a copy of the journal, then reconcile against TWS with a new journal (--journal NEW.sqlite, then `moonwire reconcile`)")
            }
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "meta") { t in
                t.primaryKey("key", .text)
                t.column("value", .text).notNull()
            }
            try db.create(table: "orders") { t in
                t.primaryKey("client_key", .text)
                t.column("order_id", .integer).notNull().indexed()
                t.column("strategy", .text).notNull()
                t.column("request", .blob).notNull()
                t.column("status", .text).notNull()
                t.column("filled", .double).notNull()
                t.column("average_price", .double).notNull()
                t.column("perm_id", .integer).notNull()
                t.column("reason", .text).notNull()
                t.column("created_at", .double).notNull()
                t.column("updated_at", .double).notNull()
            }
            try db.create(table: "order_events") { t in
                t.autoIncrementedPrimaryKey("sequence")
                t.column("time", .double).notNull()
                t.column("client_key", .text).notNull().indexed()
                t.column("order_id", .integer).notNull()
                t.column("kind", .text).notNull()
                t.column("status", .text).notNull()
                t.column("filled", .double).notNull()
                t.column("detail", .text).notNull()
            }
            try db.create(table: "executions") { t in
                t.primaryKey("exec_id", .text)
                t.column("sequence", .integer).notNull()
                t.column("order_id", .integer).notNull()
                t.column("client_key", .text).notNull()
                t.column("symbol", .text).notNull()
                t.column("side", .text).notNull()
                t.column("shares", .double).notNull()
                t.column("price", .double).notNull()
                t.column("time", .text).notNull()
                t.column("received_at", .double).notNull()
                t.column("message", .blob).notNull()
            }
            try db.create(table: "commissions") { t in
                t.primaryKey("exec_id", .text)
                t.column("commission", .double).notNull()
                t.column("currency", .text).notNull()
                t.column("realized_pnl", .double)
            }
            try db.create(table: "account_snapshots") { t in
                t.autoIncrementedPrimaryKey("sequence")
                t.column("time", .double).notNull()
                t.column("account", .text).notNull()
                t.column("key", .text).notNull()
                t.column("value", .text).notNull()
                t.column("currency", .text).notNull()
            }
            try db.create(table: "connection_events") { t in
                t.autoIncrementedPrimaryKey("sequence")
                t.column("time", .double).notNull()
                t.column("kind", .text).notNull()
                t.column("detail", .text).notNull()
            }
            try db.create(table: "store") { t in
                t.column("strategy", .text).notNull()
                t.column("key", .text).notNull()
                t.column("value", .blob).notNull()
                t.primaryKey(["strategy", "key"])
            }
            try db.create(table: "strategy_events") { t in
                t.autoIncrementedPrimaryKey("sequence")
                t.column("time", .double).notNull()
                t.column("strategy", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("detail", .text).notNull()
            }
        }
        // What the journal knows is scoped: to an account of TWS (`account:DU1234567`) or to
        // one paper account of the built-in gateway (`paper:1a2b3c4d`). Orders, executions,
        // commissions and the position baseline of one scope never explain another's.
        migrator.registerMigration("v2-scope") { db in
            try db.execute(sql: "ALTER TABLE orders ADD COLUMN scope TEXT NOT NULL DEFAULT ''")
            try db.create(index: "orders_scope", on: "orders", columns: ["scope"])
            try db.create(table: "scoped_executions") { t in
                t.column("scope", .text).notNull()
                t.column("exec_id", .text).notNull()
                t.column("sequence", .integer).notNull()
                t.column("order_id", .integer).notNull()
                t.column("client_key", .text).notNull()
                t.column("symbol", .text).notNull()
                t.column("side", .text).notNull()
                t.column("shares", .double).notNull()
                t.column("price", .double).notNull()
                t.column("time", .text).notNull()
                t.column("received_at", .double).notNull()
                t.column("message", .blob).notNull()
                t.primaryKey(["scope", "exec_id"])
            }
            try db.execute(sql: "INSERT INTO scoped_executions SELECT '', exec_id, sequence, order_id, client_key, symbol, side, shares, price, time, received_at, message FROM executions")
            try db.drop(table: "executions")
            try db.rename(table: "scoped_executions", to: "executions")
            try db.create(table: "scoped_commissions") { t in
                t.column("scope", .text).notNull()
                t.column("exec_id", .text).notNull()
                t.column("commission", .double).notNull()
                t.column("currency", .text).notNull()
                t.column("realized_pnl", .double)
                t.primaryKey(["scope", "exec_id"])
            }
            try db.execute(sql: "INSERT INTO scoped_commissions SELECT '', exec_id, commission, currency, realized_pnl FROM commissions")
            try db.drop(table: "commissions")
            try db.rename(table: "scoped_commissions", to: "commissions")
        }
        // An execution corrected by a later one (same execId but for a higher last part) is
        // kept, marked with the one that replaced it; only current executions are loaded.
        migrator.registerMigration("v3-corrections") { db in
            try db.execute(sql: "ALTER TABLE executions ADD COLUMN replaced_by TEXT")
        }
        return migrator
    }

    static let wireVersion = 200

    // MARK: Ids

    public func highestUsedId() -> Int {
        (try? queue.read { db in try Int.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'highest_id'") }) ?? 0
    }

    public func recordUsedId(_ id: Int) {
        try? queue.write { db in
            try db.execute(sql: """
                INSERT INTO meta (key, value) VALUES ('highest_id', ?)
                ON CONFLICT(key) DO UPDATE SET value = CAST(max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER)) AS TEXT)
                """, arguments: [String(id)])
        }
    }

    // MARK: Orders

    func insert(order record: OrderRecord, scope: String) throws {
        let request = try PlaceOrder(orderId: record.orderId, contract: record.contract, order: record.order)
            .payload(serverVersion: Self.wireVersion, style: .python)
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO orders (client_key, order_id, strategy, request, status, filled, average_price, perm_id, reason, created_at, updated_at, scope)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [record.clientKey, record.orderId, record.strategy, Data(request), record.status.rawValue, record.filled,
                                 record.averageFillPrice, record.permId, record.reason, record.createdAt, record.updatedAt, scope])
            try db.execute(sql: "INSERT INTO order_events (time, client_key, order_id, kind, status, filled, detail) VALUES (?, ?, ?, 'created', ?, 0, '')",
                           arguments: [record.createdAt, record.clientKey, record.orderId, record.status.rawValue])
        }
    }

    func update(order record: OrderRecord, event: String, detail: String) throws {
        let request = try PlaceOrder(orderId: record.orderId, contract: record.contract, order: record.order)
            .payload(serverVersion: Self.wireVersion, style: .python)
        try queue.write { db in try Self.update(db, order: record, request: request, event: event, detail: detail) }
    }

    private static func update(_ db: Database, order record: OrderRecord, request: [UInt8], event: String, detail: String) throws {
        try db.execute(sql: """
            UPDATE orders SET order_id = ?, request = ?, status = ?, filled = ?, average_price = ?, perm_id = ?, reason = ?, updated_at = ?
            WHERE client_key = ?
            """, arguments: [record.orderId, Data(request), record.status.rawValue, record.filled, record.averageFillPrice, record.permId,
                             record.reason, record.updatedAt, record.clientKey])
        try db.execute(sql: "INSERT INTO order_events (time, client_key, order_id, kind, status, filled, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       arguments: [record.updatedAt, record.clientKey, record.orderId, event, record.status.rawValue, record.filled, detail])
    }

    /// A fill and what it does to its order, in one transaction: a crash between the two
    /// can never leave an execution whose order does not count it.
    func record(fill: ExecutionRecord, replacing old: String?, order: OrderRecord?, scope: String) throws {
        let message = try ServerMessage.execDetails(fill.details).payload(serverVersion: Self.wireVersion)
        let request = try order.map { try PlaceOrder(orderId: $0.orderId, contract: $0.contract, order: $0.order).payload(serverVersion: Self.wireVersion, style: .python) }
        try queue.write { db in
            _ = try Self.insert(db, execution: fill, message: message, scope: scope)
            if let old {
                try db.execute(sql: "UPDATE executions SET replaced_by = ? WHERE scope = ? AND exec_id = ?", arguments: [fill.execId, scope, old])
            }
            if let order, let request {
                try Self.update(db, order: order, request: request, event: old == nil ? "fill" : "correction", detail: fill.execId)
            }
        }
    }

    func loadOrders(scope: String) throws -> [OrderRecord] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM orders WHERE scope = ? ORDER BY created_at, order_id", arguments: [scope]).compactMap { row in
                guard case let .placeOrder(request) = try ClientRequest.decode(payload: [UInt8](row["request"] as Data), serverVersion: Self.wireVersion) else {
                    return nil
                }
                var record = OrderRecord(clientKey: row["client_key"], orderId: row["order_id"], strategy: row["strategy"],
                                         contract: request.contract, order: request.order, createdAt: row["created_at"])
                record.status = OrderRecord.Status(rawValue: row["status"]) ?? .unknown
                record.filled = row["filled"]
                record.averageFillPrice = row["average_price"]
                record.permId = row["perm_id"]
                record.reason = row["reason"]
                record.updatedAt = row["updated_at"]
                return record
            }
        }
    }

    // MARK: Executions

    /// Stores an execution; false when its execId was already there (a duplicate report).
    func insert(execution record: ExecutionRecord, scope: String) throws -> Bool {
        let message = try ServerMessage.execDetails(record.details).payload(serverVersion: Self.wireVersion)
        return try queue.write { db in try Self.insert(db, execution: record, message: message, scope: scope) }
    }

    private static func insert(_ db: Database, execution record: ExecutionRecord, message: [UInt8], scope: String) throws -> Bool {
        let sequence = (try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(sequence), 0) + 1 FROM executions")) ?? 1
        try db.execute(sql: """
            INSERT OR IGNORE INTO executions (scope, exec_id, sequence, order_id, client_key, symbol, side, shares, price, time, received_at, message)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [scope, record.execId, sequence, record.orderId, record.clientKey ?? "", record.symbol, record.side, record.shares,
                             record.price, record.details.execution.time, record.receivedAt, Data(message)])
        return db.changesCount > 0
    }

    func insert(commission report: CommissionReport, scope: String) throws -> Bool {
        try queue.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO commissions (scope, exec_id, commission, currency, realized_pnl) VALUES (?, ?, ?, ?, ?)",
                           arguments: [scope, report.execId, report.commission, report.currency, report.realizedPNL])
            return db.changesCount > 0
        }
    }

    func loadExecutions(scope: String) throws -> [ExecutionRecord] {
        try queue.read { db in
            let commissions = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT * FROM commissions WHERE scope = ?", arguments: [scope]).map { row in
                (row["exec_id"] as String, CommissionReport(execId: row["exec_id"], commission: row["commission"], currency: row["currency"],
                                                            realizedPNL: row["realized_pnl"]))
            })
            return try Row.fetchAll(db, sql: "SELECT * FROM executions WHERE scope = ? AND replaced_by IS NULL ORDER BY sequence",
                                    arguments: [scope]).compactMap { row in
                guard case let .execDetails(details) = try ServerMessage.decode(payload: [UInt8](row["message"] as Data), serverVersion: Self.wireVersion) else {
                    return nil
                }
                var record = ExecutionRecord(details: details, clientKey: (row["client_key"] as String).isEmpty ? nil : row["client_key"],
                                             receivedAt: row["received_at"])
                record.commission = commissions[record.execId]
                return record
            }
        }
    }

    func loadOrphanCommissions(scope: String) throws -> [CommissionReport] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM commissions WHERE scope = ? AND exec_id NOT IN (SELECT exec_id FROM executions WHERE scope = ?)",
                             arguments: [scope, scope]).map { row in
                CommissionReport(execId: row["exec_id"], commission: row["commission"], currency: row["currency"], realizedPNL: row["realized_pnl"])
            }
        }
    }

    // MARK: Account, connection and strategy events

    func insert(accountValues values: [UpdateAccountValue], time: Double) throws {
        try queue.write { db in
            for value in values {
                try db.execute(sql: "INSERT INTO account_snapshots (time, account, key, value, currency) VALUES (?, ?, ?, ?, ?)",
                               arguments: [time, value.accountName, value.key, value.value, value.currency])
            }
        }
    }

    public func connectionEvent(_ kind: String, _ detail: String) {
        try? queue.write { db in
            try db.execute(sql: "INSERT INTO connection_events (time, kind, detail) VALUES (?, ?, ?)",
                           arguments: [Date().timeIntervalSince1970, kind, detail])
        }
    }

    public func strategyEvent(strategy: String, kind: String, detail: String) throws {
        try queue.write { db in
            try db.execute(sql: "INSERT INTO strategy_events (time, strategy, kind, detail) VALUES (?, ?, ?, ?)",
                           // What a strategy raised, escaped and capped (ShownText) like the log's.
                           arguments: [Date().timeIntervalSince1970, strategy, kind, ShownText.shown(detail, limit: ShownText.logLimit, lineBreak: "\n")])
        }
    }

    public func count(_ table: String) throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
    }
}

public struct JournalError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
}

extension Journal {
    /// Replaces the saved `store` of `strategy` (throws: the caller journals it, see
    /// `TradingState.saveStore`).
    public func writeStore(strategy: String, data: Data) throws {
        try queue.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO store (strategy, key, value) VALUES (?, 'store', ?)", arguments: [strategy, data])
        }
    }
}
