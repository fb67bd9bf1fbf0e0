import Foundation
import MarketHistory
import StrategyHost
import TWSClient
import TradingState

/// The trading state's records as the API shows them (docs/http-api.md).
enum RecordJSON {
    static func time(_ seconds: Double) -> JSONText {
        guard seconds.isFinite, seconds > 0, seconds < 253_402_300_800 else { return .null }
        return .string(UTCTime.iso(Int64(seconds.rounded(.down))).replacingOccurrences(of: " ", with: "T") + "Z")
    }

    static func order(_ record: OrderRecord) -> JSONText {
        let order = record.order
        return .object([
            ("order_id", .int(record.orderId)), ("perm_id", .integer(record.permId)), ("strategy", .string(record.strategy)),
            ("symbol", .string(record.instrumentKey)), ("action", .string(order.action)), ("quantity", .number(record.quantity)),
            ("type", .string(order.orderType)), ("limit", .number(order.lmtPrice)),
            ("stop", .number(order.orderType == "TRAIL" ? nil : order.auxPrice)), ("tif", .string(order.tif)),
            ("status", .string(record.status.rawValue)), ("filled", .number(record.filled)), ("remaining", .number(record.remaining)),
            ("average_fill_price", .number(record.filled > 0 ? record.averageFillPrice : nil)),
            ("reason", .string(record.reason.isEmpty ? nil : record.reason)), ("created_at", time(record.createdAt)),
        ])
    }

    static func fill(_ record: ExecutionRecord, strategy: String?) -> JSONText {
        .object([
            ("exec_id", .string(record.execId)), ("order_id", .int(record.orderId)), ("strategy", .string(strategy)),
            ("symbol", .string(record.symbol)), ("side", .string(record.side)), ("shares", .number(record.shares)),
            ("price", .number(record.price)), ("time", time(record.receivedAt)),
            ("commission", .number(record.commission?.commission)),
        ])
    }

    static func quote(_ quote: MarketQuote) -> JSONText {
        .object([
            ("symbol", .string(quote.symbol)), ("bid", .number(quote.bid)), ("ask", .number(quote.ask)), ("last", .number(quote.last)),
            ("bid_size", .number(quote.bidSize)), ("ask_size", .number(quote.askSize)),
            ("time", quote.lastTime.map { time(Double($0)) } ?? time(Date().timeIntervalSince1970)),
        ])
    }

    static func statistics(name: String, path: String?, _ statistics: StrategyStatistics, lastError: String?) -> JSONText {
        .object([
            ("name", .string(name)), ("path", .string(path)),
            ("state", .string(statistics.hung ? "hung" : statistics.paused ? "paused" : "running")),
            ("events", .int(statistics.eventsDelivered)), ("quotes", .int(statistics.quotesDelivered)),
            ("quotes_coalesced", .int(statistics.quotesCoalesced)), ("orders_placed", .int(statistics.ordersPlaced)),
            ("orders_refused", .int(statistics.ordersRefused)), ("fills", .int(statistics.fills)), ("errors", .int(statistics.errors)),
            ("handler_failures", .int(statistics.handlerFailures)), ("reloads", .int(statistics.reloads)),
            ("failed_reloads", .int(statistics.failedReloads)), ("realized_pnl", .number(statistics.realizedPnL)), ("last_error", .string(lastError)),
        ])
    }

    /// The strategy that placed the order an execution fills (from the orders kept, else the
    /// execution's order reference, which carries the strategy's name).
    static func strategies(in snapshot: TradingState.Snapshot) -> [Int: String] {
        var owners: [Int: String] = [:]
        for order in snapshot.orders where !order.strategy.isEmpty { owners[order.orderId] = order.strategy }
        return owners
    }
}
