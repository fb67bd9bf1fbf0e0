import ArgumentParser
import Foundation
import StrategyHost
import TWSClient
import TradingState

/// `moonwire reconcile`: compares what the journal knows of an account with what TWS
/// reports, and with `--acknowledge` accepts TWS's positions as they are (the difference
/// becomes the journal's baseline for that account), which reopens trading after a
/// fail-closed refusal.
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Compare the journal with TWS's positions and orders; --acknowledge accepts TWS's positions.")

    @Option(help: "TWS / IB Gateway as HOST:PORT.") var gateway: String
    @Option(help: "The SQLite journal (default: trading.journal of the config, or the data folder).") var journal: String?
    @Option(help: "YAML config (default: $MOONWIRE_CONFIG, else ./Config/moonwire.yaml, else ~/.config/moonwire/moonwire.yaml).") var config: String?
    @Option(name: .customLong("client-id"), help: "API client id (use one no running strategy uses).") var clientId = 0
    @Flag(help: "Accept TWS's positions as they are now.") var acknowledge = false

    func run() async throws {
        let endpoint = try parseEndpoint(gateway)
        let configPath = try configFile(config).path
        let settings: HostConfig
        do {
            settings = try configPath.map { try HostConfig.load(path: $0) } ?? HostConfig()
        } catch {
            throw ValidationError("\(error)")
        }
        let path = journal ?? settings.trading.journal
        guard FileManager.default.fileExists(atPath: path) else { throw RuntimeError("\(path): no such journal") }
        let (client, state): (TWSClient, TradingState)
        do {
            (client, state) = try await connectTrading(host: endpoint.host, port: endpoint.port, clientId: clientId, journal: path)
        } catch {
            throw RuntimeError("could not connect to \(endpoint.host):\(endpoint.port): \(error)")
        }
        defer { Task { await client.stop() } }
        let report = await state.reconcile()
        let scope = await state.snapshot().scope
        say("journal \(path), \(scope)")
        for item in report.unknown { say("  unknown: \(item) (trading stays closed until this can be read)") }
        for key in report.lostOrders { say("  order \(key): not found at TWS, marked unknown (never resent)") }
        if report.unexplainedPositions.isEmpty {
            say("  positions: the journal explains every position TWS reports")
        } else {
            say("  positions the journal cannot explain:")
            for (symbol, difference) in report.unexplainedPositions.sorted(by: { $0.key < $1.key }) {
                say("    \(symbol): TWS \(difference.reported), journal \(difference.explained)")
            }
        }
        if acknowledge && !report.unexplainedPositions.isEmpty {
            do {
                try await state.acknowledgePositions()
            } catch {
                throw RuntimeError("could not acknowledge the positions: \(error)")
            }
            say("  acknowledged: TWS's positions are now the journal's baseline for \(scope); trading is open")
        } else if !report.unexplainedPositions.isEmpty {
            say("  run again with --acknowledge to accept TWS's positions as they are")
        }
        await client.stop()
    }
}
