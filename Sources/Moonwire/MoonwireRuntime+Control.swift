import Foundation
import StrategyHost
import TWSClient
import TWSProtocol
import TradingState

/// What an operator does to a run from outside (`moonwire serve`'s API, an embedding
/// application), besides adding, removing, reloading and halting: through the same order
/// gate, risk gates and journal as the strategies' own calls.
extension MoonwireRuntime {
    /// The file a running strategy was loaded from.
    public func strategyPath(named name: String) -> String? { files.path(of: name) }

    /// Pauses (no handler called) or resumes the strategy. Nil when none has that name or it
    /// does not answer (hung); else whether it is paused now.
    @discardableResult
    public func setPaused(strategy name: String, _ paused: Bool) async -> Bool? {
        guard let strategy = runner.strategy(named: name) else { return nil }
        let now = await strategy.setPaused(paused)
        if now != nil {
            hub.publish(.paused(strategy: name, paused: paused))
            hub.publish(.notice("\(name) \(paused ? "paused" : "resumed")"))
        }
        return now
    }

    /// Why an operator's cancel was not sent.
    public enum CancelRefusal: Error, Sendable, Equatable {
        case unknownOrder
        case notOurs(String)
        case notOpen(String)
    }

    /// Cancels one of the strategies' open orders (cancels pass the order gate: stopping an
    /// order is always allowed). An order of the account no strategy placed is refused.
    public func cancel(orderId: Int) async throws(CancelRefusal) {
        guard let record = await state.snapshot().orders.first(where: { $0.orderId == orderId }) else { throw .unknownOrder }
        // A strategy's orders carry its name (a stopped strategy's too: they stay its own).
        guard !record.strategy.isEmpty else { throw .notOurs(record.strategy) }
        guard !record.status.isTerminal else { throw .notOpen(record.status.rawValue) }
        runner.cancel(id: orderId)
    }

    /// Flattens `key` (an instrument key) for the strategy named, or for every running
    /// strategy that holds it or has orders in it: their open orders there are cancelled and
    /// their positions closed at market, each through its own risk gate. The strategies'
    /// answers by name (a hung one is missing).
    public func flatten(_ key: String, strategy only: String? = nil) async -> [String: Strategy.FlattenOutcome] {
        let snapshot = await state.snapshot()
        let contract = snapshot.executions.last { $0.symbol == key }?.details.contract
            ?? snapshot.orders.last { $0.instrumentKey == key }?.contract
        var outcomes: [String: Strategy.FlattenOutcome] = [:]
        for name in strategyNames where only == nil || only == name {
            guard let strategy = runner.strategy(named: name) else { continue }
            guard let outcome = await strategy.flatten(key, contract: contract) else { continue }
            if !outcome.cancelled.isEmpty || outcome.closingOrder != nil || outcome.refused != nil { outcomes[name] = outcome }
        }
        return outcomes
    }

    /// A snapshot quote from TWS for `instrument` (the Lua API's syntax: `AAPL`, `EUR.USD`,
    /// `ES:FUT:202612`). Throws for a text that names no instrument, and TWS's error for one
    /// it does not know.
    public func quote(_ instrument: String, timeout: Double = 11) async throws -> MarketQuote {
        let spec = try InstrumentSpec.parse(instrument)
        let contract = runner.resolvedInstrument(spec.key)?.contract ?? spec.contract
        return try await client.snapshotQuote(contract, timeout: timeout)
    }
}

extension MoonwireRuntime {
    /// TWS's server version on this connection.
    public var serverVersion: Int { get async { await client.currentServerVersion } }
    /// The configuration the run was started with (risk limits, logging, history store).
    public var hostConfiguration: HostConfig { configuration.host }
    /// Seconds since TWS last sent anything (nil before the first message).
    public var secondsSinceLastMessage: Double? { client.secondsSinceLastMessage }
    /// Events waiting for each strategy's loop.
    public var waitingEvents: [String: Int] {
        Dictionary(uniqueKeysWithValues: strategyNames.compactMap { name in runner.strategy(named: name).map { (name, $0.waitingEvents) } })
    }
    /// The latest quote of each instrument some strategy streams (for a dashboard: read, not awaited).
    public var latestQuotes: [String: MarketQuote] { runner.latestQuoteSnapshot() }
}
