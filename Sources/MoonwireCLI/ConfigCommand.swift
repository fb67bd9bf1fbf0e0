import ArgumentParser
import Foundation
import StrategyHost

/// `moonwire config`: the effective connection settings and where each came from (a flag,
/// the environment, `.env`, the config file, or the default).
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Print the effective connection settings and where each came from.")

    @Option(help: "YAML config (default: $MOONWIRE_CONFIG, else ./Config/moonwire.yaml, else ~/.config/moonwire/moonwire.yaml).") var config: String?
    @Option(help: "As `moonwire run --gateway` would take it.") var gateway: String?
    @Option(name: .customLong("client-id"), help: "As `moonwire run --client-id` would take it.") var clientId: Int?

    func run() throws {
        let found = try configFile(config)
        let configPath = found.path
        let settings: ConnectionSettings
        do {
            settings = try ConnectionSettings.resolveForCommandLine(gateway: gateway, clientId: clientId, configPath: configPath)
        } catch {
            throw RuntimeError("\(error)")
        }
        say("config file: " + (found.path.map { "\($0) (\(found.source))" } ?? "none (defaults)"))
        say("connects to: " + (settings.usesPaperGateway ? "the built-in paper gateway" : "TWS / IB Gateway at \(settings.host ?? ""):\(settings.port ?? 0)"))
        for line in settings.description { say("  " + line) }
        say("data folder: \(HostConfig.dataFolder) (the journal, logs and bar store unless the config names others)")
    }
}
