import Foundation
import TWSClient
@testable import StrategyHost
@testable import TradingState

/// One Moonwire of the order-path model: the journal, the client, the trading state and the
/// runner, as `moonwire run` wires them (no strategy: the model hands orders to the runner
/// as a strategy named `model` would). A restart builds a new one on the same journal file.
struct OrderPathModelMoonwire {
    static let strategy = "model"

    let journal: Journal
    let client: TWSClient
    let state: TradingState
    let runner: StrategyRunner

    /// Starts on the journal at `path` against the gateway on `port`, reconciled.
    static func start(port: Int, journal path: String) async throws -> OrderPathModelMoonwire {
        let journal = try Journal(path: path)
        var configuration = TWSClientConfiguration(host: "127.0.0.1", port: port, clientId: 1)
        configuration.reconnect.backoffBase = 0.1
        let client = TWSClient(configuration: configuration, idStore: journal)
        let state = try TradingState(client: client, journal: journal)
        client.start()
        try await client.waitUntilReady(timeout: 10)
        _ = await state.reconcile()
        // The account-wide limits would refuse a long random run (120 orders a minute, 100
        // open): the model tests the order path, not the risk limits.
        var limits = AccountLimits()
        limits.maxOpenOrders = 1_000_000
        limits.maxOrdersPerMinute = 1_000_000
        limits.maxPosition = 1e9
        let runner = StrategyRunner(client: client, state: state, journal: journal, accountLimits: limits)
        await runner.adoptJournaledOrders()
        return OrderPathModelMoonwire(journal: journal, client: client, state: state, runner: runner)
    }

    /// Gone without a clean stop: the socket closes as a killed process's does, and nothing is
    /// cancelled, flushed or told. What the runner's queue holds is let reach the client first
    /// (it is on its way there, possibly unsent, at the crash), and what the journal's writer
    /// was handed is let finish, so that no write of this instance lands in the journal after
    /// the next one has read it (a killed process writes nothing later; a test's old objects
    /// would). Nothing of this instance may be called after: its client's loop is gone.
    func crash() async {
        _ = await boundedWait(5) { (finish: @escaping @Sendable (Bool?) -> Void) in runner.commands.yield(.barrier { finish(true) }) }
        await client.stop()
        // Not `drainJournal`: it hops onto the client's loop, which is shut down now (a task
        // submitted to it would never run). The writer runs what it was handed in order.
        _ = try? await state.writer.submit {}.get()
    }

    /// A clean stop at the end of a run (never after `crash`).
    func stop() async {
        _ = await state.drainJournal(within: 5)
        await client.stop()
        journal.close()
    }
}
