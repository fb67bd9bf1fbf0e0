import Foundation
import Money
import TWSClient
import TWSProtocol

/// What a strategy needs from the rest of Moonwire; `StrategyRunner` provides it over
/// TWSClient and TradingState, tests may provide it otherwise.
public protocol StrategyServices: AnyObject, Sendable {
    /// Why no order may be sent now, or nil: `halted` (the kill switch) or `reconcile` (a
    /// reconciliation left a position unexplained or a state unknown: fail-closed).
    var orderFlowClosed: (code: String, message: String)? { get }
    /// Checks the account-wide limits, then sends an order the strategy's gate passed under
    /// the next order id, which it returns at once (orders.buy returns it before TWS answers);
    /// orders leave in call order. Throws the `RiskRefusal` of an account limit.
    func submitNew(contract: Contract, order: Order, strategy: String) throws -> Int
    func modify(id: Int, quantity: Double?, limit: Double?, stop: Double?)
    func cancel(id: Int)
    /// Market data of an instrument (resolved first), delivered under its key.
    func subscribe(_ instrument: InstrumentSpec, quotes: Bool, barSize: String?, strategy: Strategy)
    func unsubscribe(key: String, strategy: Strategy)
    /// The latest price of `symbol` the host has seen on any stream (any thread), or nil.
    func latestPrice(symbol: String, buy: Bool) -> Double?
    /// A price of the instrument asked of TWS now (a snapshot), to value an order by.
    func snapshotPrice(_ instrument: InstrumentSpec, buy: Bool) async throws -> Double?
    func history(_ instrument: InstrumentSpec, duration: String, barSize: String, whatToShow: String) async throws -> [Bar]
    /// The instrument as TWS resolves it (throws TWS's 200 for none or several).
    func contract(_ instrument: InstrumentSpec) async throws -> ResolvedInstrument
    /// The journaled `store` of a strategy (nil when there is none yet).
    func loadStore(strategy: String) -> Data?
    func saveStore(strategy: String, data: Data)
    /// Journals a strategy event (errors, risk refusals, reloads) before the strategy hears of it.
    func journal(strategy: String, kind: String, detail: String)
    /// What the strategy's own journaled fills hold, to start it with.
    func startingPositions(strategy: String) async -> PositionBook
    /// The account's position in `symbol`, all strategies and other clients together, as
    /// TWS last reported it (any thread).
    func accountPosition(symbol: String) -> Double
    /// Whether TWS knows the instrument of `key`, as far as it has answered (any thread, no wait).
    func instrumentStatus(_ key: String) -> InstrumentStatus
    /// The instrument of `key` as TWS resolved it, when it has.
    func resolvedInstrument(_ key: String) -> ResolvedInstrument?
    /// Its contract alone, for the order path (the whole instrument carries its details, dozens
    /// of strings copied at each look-up).
    func resolvedContract(_ key: String) -> Contract?
    /// Asks TWS for the instrument (once per run and key).
    func resolveInstrument(_ instrument: InstrumentSpec) async -> InstrumentStatus
    /// Lua functions the embedding application added (registered in every strategy).
    var extensions: [LuaExtension] { get }
    /// The account's base currency and exchange rates now (any thread): risk limits compare
    /// amounts in base, and refuse an order in a currency without a rate.
    func rates() -> CurrencyRates
}

extension StrategyServices {
    public var extensions: [LuaExtension] { [] }
    public func resolvedContract(_ key: String) -> Contract? { resolvedInstrument(key)?.contract }
    /// USD only: services that know no account (tests) value USD instruments alone.
    public func rates() -> CurrencyRates { CurrencyRates() }
}
