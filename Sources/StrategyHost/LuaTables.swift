import Foundation
import LuaRuntime
import TWSClient
import TWSProtocol
import TradingState

/// The tables handlers receive, with exactly the field names of design.md's Lua API.
enum LuaTables {
    static func number(_ value: Double?) -> LuaValue { value.map { .number($0) } ?? .nil }

    /// The fields of a quote table, in the order `quote` writes them; written straight onto
    /// the Lua stack for on_quote.
    static let quoteShape = LuaRecordShape(["symbol", "bid", "ask", "last", "bid_size", "ask_size", "last_size", "volume", "time", "open",
                                            "high", "low", "close", "stale", "delayed", "halted"])

    /// `now` is the quote's time when it has none of its own (the strategy's clock).
    static func quote<Sink: LuaFieldSink>(_ q: MarketQuote, now: Double, into sink: inout Sink) {
        sink.set("symbol", q.symbol)
        sink.set("bid", q.bid)
        sink.set("ask", q.ask)
        sink.set("last", q.last)
        sink.set("bid_size", q.bidSize)
        sink.set("ask_size", q.askSize)
        sink.set("last_size", q.lastSize)
        sink.set("volume", q.volume)
        sink.set("time", q.lastTime.map(Double.init) ?? now)
        sink.set("open", q.open)
        sink.set("high", q.high)
        sink.set("low", q.low)
        sink.set("close", q.close)
        sink.set("stale", q.stale ? true : nil)
        sink.set("delayed", q.delayed ? true : nil)
        sink.set("halted", q.halted ? true : nil)
    }

    static func quote(_ q: MarketQuote, now: Double) -> LuaValue {
        var record = LuaRecord()
        quote(q, now: now, into: &record)
        return record.value
    }

    /// The fields of a bar table, in the order `bar` writes them; written straight onto the Lua
    /// stack for on_bar.
    static let barShape = LuaRecordShape(["symbol", "size", "time", "open", "high", "low", "close", "volume", "wap", "count"])

    static func bar<Sink: LuaFieldSink>(symbol: String, size: String, time: Int64, open: Double, high: Double, low: Double, close: Double,
                                        volume: Double?, wap: Double?, count: Int?, into sink: inout Sink)
    {
        sink.set("symbol", symbol)
        sink.set("size", size)
        sink.set("time", Double(time))
        sink.set("open", open)
        sink.set("high", high)
        sink.set("low", low)
        sink.set("close", close)
        sink.set("volume", volume)
        sink.set("wap", wap)
        sink.set("count", integer: count.map(Int64.init))
    }

    static func historyBar(symbol: String, size: String, bar: Bar) -> LuaValue {
        .record(["symbol": .string(symbol), "size": .string(size), "time": .string(bar.date), "open": .number(bar.open),
                 "high": .number(bar.high), "low": .number(bar.low), "close": .number(bar.close),
                 "volume": number(bar.volume?.doubleValue), "wap": number(bar.wap?.doubleValue), "count": .integer(Int64(bar.barCount))])
    }

    static func status(_ status: OrderRecord.Status) -> String {
        switch status {
        case .pending: return "pending"
        case .submitted: return "submitted"
        case .filled: return "filled"
        case .cancelled: return "cancelled"
        case .rejected: return "rejected"
        case .inactive: return "inactive"
        case .unknown: return "unknown"
        case .notSent: return "not_sent"
        }
    }

    static func order(_ r: OrderRecord) -> LuaValue {
        .record(["id": .integer(Int64(r.orderId)), "symbol": .string(r.instrumentKey), "side": .string(r.order.action),
                 "qty": quantity(r.quantity), "type": .string(r.order.orderType), "limit": number(r.order.lmtPrice),
                 "stop": number(r.order.auxPrice), "tif": .string(r.order.tif.isEmpty ? "DAY" : r.order.tif),
                 "status": .string(status(r.status)), "filled": quantity(r.filled), "remaining": quantity(r.remaining),
                 "avg_price": r.filled > 0 ? .number(r.averageFillPrice) : .nil, "reason": r.reason.isEmpty ? .nil : .string(r.reason)])
    }

    /// The fields of a fill table, in the order `fill` writes them; written straight onto the
    /// Lua stack for on_fill.
    static let fillShape = LuaRecordShape(["order_id", "exec_id", "symbol", "side", "qty", "price", "time", "commission", "corrects"])

    static func fill<Sink: LuaFieldSink>(_ e: ExecutionRecord, into sink: inout Sink) {
        sink.set("order_id", integer: Int64(e.orderId))
        sink.set("exec_id", e.execId)
        sink.set("symbol", e.symbol)
        sink.set("side", e.side == "BOT" ? "BUY" : "SELL")
        let shares = e.shares
        if shares == shares.rounded() && abs(shares) < 9e15 { sink.set("qty", integer: Int64(shares)) } else { sink.set("qty", shares) }
        sink.set("price", e.price)
        sink.set("time", e.details.execution.time)
        sink.set("commission", e.commission?.commission)
        sink.set("corrects", e.corrects?.execId)
    }

    static func position(symbol: String, quantity: Double, averageCost: Double, accountQuantity: Double? = nil) -> LuaValue {
        .record(["symbol": .string(symbol), "qty": Self.quantity(quantity), "avg_cost": .number(averageCost),
                 "account_qty": accountQuantity.map { Self.quantity($0) }])
    }

    static func account(_ values: [String: String]) -> LuaValue {
        func value(_ key: String) -> LuaValue { values[key].flatMap(Double.init).map { .number($0) } ?? .nil }
        return .record(["net_liquidation": value("NetLiquidation"), "cash": value("TotalCashValue"), "buying_power": value("BuyingPower"),
                        "unrealized_pnl": value("UnrealizedPnL"), "realized_pnl": value("RealizedPnL")])
    }

    static func error(code: String, message: String, orderId: Int?) -> LuaValue {
        .record(["code": .string(code), "message": .string(message), "order_id": orderId.map { .integer(Int64($0)) }])
    }

    /// `nil, { code =, message = }`, the way failed operations answer.
    /// A quantity as the instrument expresses it: whole shares as a Lua integer (`10`, not
    /// `10.0`, when printed), fractions (forex, fractional shares) as numbers.
    static func quantity(_ value: Double) -> LuaValue {
        value == value.rounded() && abs(value) < 9e15 ? .integer(Int64(value)) : .number(value)
    }

    static func failure(_ code: String, _ message: String) -> [LuaValue] {
        [.nil, .record(["code": .string(code), "message": .string(message)])]
    }
}

