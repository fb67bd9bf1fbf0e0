import ArgumentParser

@main
struct Moonwire: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moonwire",
        abstract: "Run Lua trading strategies against Interactive Brokers.",
        subcommands: [GatewayCommand.self, StateCommand.self, TradeProbeCommand.self]
    )
}
