import Foundation
import GRDB

extension Journal {
    /// The scopes the journal holds records of (`account:DU1234567`, `paper:1a2b3c4d`), the
    /// most recently active first.
    public func scopes() throws -> [(scope: String, lastActivity: Double)] {
        try queue.read { db in
            try Row.fetchAll(db, sql: """
                SELECT scope, MAX(at) AS last FROM (
                  SELECT scope, updated_at AS at FROM orders
                  UNION ALL SELECT scope, received_at AS at FROM executions
                ) GROUP BY scope ORDER BY last DESC
                """).map { (scope: $0["scope"], lastActivity: $0["last"]) }
        }
    }
}

extension TradingState {
    /// What the journal alone says of `scope`: its orders and executions, and the positions
    /// its executions add up to (no TWS: `positions` are the journal's, marked as such by
    /// `tradingAllowed == false`).
    public func journaledSnapshot(scope: String) async throws -> Snapshot {
        try await loop.submit { () -> Snapshot in
            try self.load(scope: scope)
            var snapshot = self.makeSnapshot()
            var net: [String: Double] = [:]
            for execution in snapshot.executions { net[execution.symbol, default: 0] += execution.signedShares }
            snapshot.positions = net.filter { abs($0.value) > 1e-9 }.sorted { $0.key < $1.key }
                .map { PositionRecord(account: scope, symbol: $0.key, conId: 0, quantity: $0.value, averageCost: 0) }
            snapshot.tradingAllowed = false
            return snapshot
        }.get()
    }
}
