import LuaRuntime
import TWSClient
import TWSProtocol
import TradingState

/// What a strategy's loop delivers to its handlers, in order.
///
/// Orders and fills are boxed (`indirect`): an `OrderRecord` is 2 KB, and every event is
/// copied through the inbox and the queue, so unboxed they made each quote cost a 2 KB copy.
public enum StrategyEvent: Sendable {
    case start
    /// Coalesced: only the latest quote per symbol waits in the queue.
    case quote(MarketQuote)
    indirect case bar(symbol: String, size: String, bar: RealTimeBar)
    indirect case order(OrderRecord)
    indirect case fill(ExecutionRecord)
    /// A commission report that came after its fill was delivered without one (IB's arrived
    /// later than the wait): it goes into the strategy's positions, no handler is called.
    indirect case commission(CommissionReport)
    case account(key: String, value: String)
    case pnl(daily: Double?, unrealized: Double?, realized: Double?)
    case error(code: String, message: String, orderId: Int?)
    case connection(String)
    case timer(Int)
    /// The reply to a wait (`market.history`, `market.contract`).
    case reply(wait: Int, values: [LuaValue])
    case stop
    /// An event of the embedding application, for the handler it names (`on_signal`).
    case custom(handler: String, values: [LuaValue])
}

/// Counts for the summary `moonwire run` prints.
public struct StrategyStatistics: Sendable, Equatable {
    public init() {}
    public var eventsDelivered = 0
    public var quotesDelivered = 0
    public var quotesCoalesced = 0
    /// Market data ticks folded into the quotes on_quote received (a quote carries every
    /// tick read since the previous one for its symbol, coalesced ones included).
    public var ticksDelivered = 0
    public var ordersPlaced = 0
    public var ordersRefused = 0
    public var fills = 0
    public var errors = 0
    public var handlerFailures = 0
    public var paused = false
    /// Its on_start failed: what it sets up there (subscriptions, state) may not be.
    public var startFailed = false
    public var reloads = 0
    /// Reloads whose new code did not load (the old code kept running).
    public var failedReloads = 0
    /// PnL realized by its own fills in this run (closing part at average cost), after commissions.
    public var realizedPnL = 0.0
    /// Declared hung: a handler did not return within the hard limit (see `Strategy.hang`).
    public var hung = false
}
