import ArgumentParser
import Moonwire

@main
struct MoonwireCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moonwire",
        abstract: "Run Lua trading strategies against Interactive Brokers.",
        version: MoonwireVersion.current,
        subcommands: [RunCommand.self, ServeCommand.self, CheckCommand.self, ConnectCommand.self, QuoteCommand.self, HistoryCommand.self, BacktestCommand.self, HaltCommand.self, ReloadCommand.self, StatusCommand.self, ReconcileCommand.self, ConfigCommand.self, GatewayCommand.self, StateCommand.self, TradeProbeCommand.self]
    )
}
