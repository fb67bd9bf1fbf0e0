import Foundation
import Logging
import Moonwire
import TWSClient

/// A connection for market data commands (`quote`, `history`): TWS from the settings, else a
/// built-in paper gateway on a free loopback port.
func connectForData(_ configuration: MoonwireConfiguration) async throws -> (TWSClient, PaperGatewayServer?) {
    var paper: PaperGatewayServer?
    var host = configuration.connection.host ?? "127.0.0.1"
    var port = configuration.connection.port ?? 7497
    if configuration.connection.usesPaperGateway {
        var settings = configuration.paper
        settings.port = 0
        settings.host = "127.0.0.1"
        var quiet = Logger(label: "paper-gateway")
        quiet.logLevel = .warning
        paper = try await PaperGatewayServer.start(config: settings, logger: quiet)
        (host, port) = ("127.0.0.1", paper!.port)
    }
    var clientConfiguration = TWSClientConfiguration(host: host, port: port, clientId: configuration.connection.clientId)
    clientConfiguration.marketDataType = configuration.connection.marketDataType
    var logger = Logger(label: "tws-client")
    logger.logLevel = .error
    // The client's log stays quiet here; a history request sent again after a pacing answer
    // is said, so a download that waits 15 s says why.
    let client = TWSClient(configuration: clientConfiguration, logger: logger, historyNotice: { say($0) })
    client.start()
    do {
        try await client.waitUntilReady(timeout: configuration.connection.connectTimeout, failFast: true)
    } catch {
        await client.stop()
        try? await paper?.shutdown()
        throw RuntimeError(ConnectionAdvice.message(for: error, host: host, port: port, clientId: configuration.connection.clientId,
                                                    seconds: configuration.connection.connectTimeout))
    }
    return (client, paper)
}
