import Foundation
import NIOConcurrencyHelpers

/// What happens in a running `MoonwireRuntime`, as `events()` tells it.
public enum MoonwireEvent: Sendable {
    /// A line for the person running it: a reload, a hang, a restart, a halt.
    case notice(String)
    case strategyAdded(name: String, path: String)
    case strategyRemoved(name: String, statistics: StrategyStatistics)
    case reloaded(strategy: String, outcome: Strategy.ReloadOutcome)
    /// The operator paused or resumed a strategy (`setPaused`).
    case paused(strategy: String, paused: Bool)
    /// The kill switch went off (`halt`, `moonwire halt`); the orders it could not confirm
    /// cancelled.
    case halted(everything: Bool, ordersLeftOpen: [Int], by: String)
    /// An order, fill, commission, position, account value, PnL or error, after the journal
    /// has it (quotes are not events here: they go to the strategies).
    case trading(TradingEvent)
    /// The connection to TWS changed (`connected`, `disconnected`, `restored`, ...).
    case connection(String)
    /// `stop` finished: nothing more comes.
    case stopped(MoonwireRunSummary)
}

/// Hands every event to every listener. A listener that falls behind keeps the newest
/// `bufferSize` events (it is never allowed to hold up trading).
final class EventHub: Sendable {
    private let listeners = NIOLockedValueBox<(next: Int, all: [Int: AsyncStream<MoonwireEvent>.Continuation], finished: Bool)>((0, [:], false))

    func publish(_ event: MoonwireEvent) {
        for listener in listeners.withLockedValue({ Array($0.all.values) }) { listener.yield(event) }
    }

    func stream(bufferSize: Int) -> AsyncStream<MoonwireEvent> {
        let (stream, continuation) = AsyncStream<MoonwireEvent>.makeStream(bufferingPolicy: .bufferingNewest(bufferSize))
        let id = listeners.withLockedValue { state -> Int? in
            guard !state.finished else { return nil }
            state.next += 1
            state.all[state.next] = continuation
            return state.next
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in self?.listeners.withLockedValue { _ = $0.all.removeValue(forKey: id) } }
        return stream
    }

    /// Ends every stream after `last`.
    func finish(with last: MoonwireEvent) {
        let all = listeners.withLockedValue { state -> [AsyncStream<MoonwireEvent>.Continuation] in
            state.finished = true
            defer { state.all.removeAll() }
            return Array(state.all.values)
        }
        for listener in all {
            listener.yield(last)
            listener.finish()
        }
    }
}

extension MoonwireRuntime {
    /// Every event from now on, until `stop` (the last is `.stopped`). Each call is a stream
    /// of its own; one that is not read keeps the newest `bufferSize` events.
    public func events(bufferSize: Int = 10_000) -> AsyncStream<MoonwireEvent> {
        hub.stream(bufferSize: bufferSize)
    }

    /// The connection's state changes from now on (`connected`, `disconnected`, ...).
    public func connectionStates() -> AsyncStream<String> {
        let source = events()
        return AsyncStream { continuation in
            let task = Task {
                for await event in source {
                    if case let .connection(state) = event { continuation.yield(state) }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Each strategy's counts, every `seconds` until `stop`.
    public func statisticsUpdates(every seconds: Double = 1) -> AsyncStream<[String: StrategyStatistics]> {
        AsyncStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let task = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(seconds))
                    guard let self, !self.isStopped else { break }
                    continuation.yield(await self.statistics())
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Each strategy's counts now (a hung strategy's as last published).
    public func statistics() async -> [String: StrategyStatistics] {
        var result: [String: StrategyStatistics] = [:]
        for name in strategyNames {
            guard let strategy = runner.strategy(named: name) else { continue }
            result[name] = await strategy.currentStatistics()
        }
        return result
    }

    /// The orders, executions, positions and account values of this run's scope, as the
    /// journal and TWS have them now.
    public func snapshot() async -> TradingState.Snapshot { await state.snapshot() }

    var isStopped: Bool { stopped.withLockedValue { $0 != nil } }

    /// `moonwire status`: one line for the run, one per strategy.
    public func status() async -> String {
        let snapshot = await state.snapshot()
        let open = snapshot.orders.filter { !$0.strategy.isEmpty && !$0.status.isTerminal && $0.status != .unknown }
        var lines = [(await liveStatus()).line(), "running \(String(format: "%.0f", Date().timeIntervalSince(startedAt))) s, \(snapshot.scope), trading "
            + (runner.orderFlowClosed.map { "closed (\($0.message))" } ?? "open") + ", \(open.count) open order(s), "
            + "\(snapshot.positions.filter { $0.quantity != 0 }.count) position(s)"]
        for name in strategyNames {
            guard let strategy = runner.strategy(named: name) else { continue }
            let s = await strategy.currentStatistics()
            lines.append("  \(name): \(s.eventsDelivered) events (\(s.quotesDelivered) quotes, \(s.quotesCoalesced) coalesced), "
                + "\(s.ordersPlaced) orders placed, \(s.ordersRefused) refused, \(s.fills) fills, \(s.errors) errors"
                + (s.failedReloads > 0 ? ", \(s.failedReloads) failed reload\(s.failedReloads == 1 ? "" : "s") (the old code runs)" : "")
                + (s.paused ? ", paused" : "") + (strategy.hungReason != nil ? ", hung" : ""))
        }
        return lines.joined(separator: "\n")
    }
}
