import ArgumentParser
import Foundation
import Logging
import Moonwire
import TWSClient

/// `moonwire connect`: connects, says what TWS says about itself, disconnects. The first
/// thing to run against a new TWS or IB Gateway.
struct ConnectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Connect to TWS / IB Gateway, print what it reports (version, accounts, paper or live, its time), and disconnect.")

    @Option(help: "YAML config (default: $MOONWIRE_CONFIG, else ./Config/moonwire.yaml, else ~/.config/moonwire/moonwire.yaml).") var config: String?
    @Option(help: "HOST:PORT or [IPV6]:PORT of TWS / IB Gateway (default: IB_HOST / IB_PORT or the config's connection:, else 127.0.0.1:7497, TWS paper).")
    var gateway: String?
    @Option(name: .customLong("client-id"), help: "API client id (default: IB_CLIENT_ID, connection.client_id, else 1).") var clientId: Int?

    func run() async throws {
        if let clientId { try OptionRange.check(clientId, "--client-id", OptionRange.clientIds) }
        let settings = try loadConfiguration(config: config, gateway: gateway == "paper" ? nil : gateway, clientId: clientId).configuration.connection
        let host = settings.host ?? "127.0.0.1"
        let port = settings.port ?? 7497
        say("connecting to \(host.contains(":") ? "[\(host)]" : host):\(port) (client id \(settings.clientId))...")
        var configuration = TWSClientConfiguration(host: host, port: port, clientId: settings.clientId)
        configuration.requestTimeout = min(settings.requestTimeout, 10)
        configuration.handshakeTimeout = min(configuration.handshakeTimeout, max(settings.connectTimeout * 0.8, 0.5))
        configuration.marketDataType = settings.marketDataType
        var logger = Logger(label: "tws-client")
        logger.logLevel = .critical
        let client = TWSClient(configuration: configuration, logger: logger)
        let started = Date()
        client.start()
        do {
            try await client.waitUntilReady(timeout: settings.connectTimeout, failFast: true)
        } catch {
            await client.stop()
            throw RuntimeError(ConnectionAdvice.message(for: error, host: host, port: port, clientId: settings.clientId, seconds: settings.connectTimeout))
        }
        let connected = Date().timeIntervalSince(started)
        let version = await client.currentServerVersion
        let accounts = (try? await client.accountSummary(tags: ["AccountType"]).map(\.account)) ?? []
        let time = try? await client.currentTime()
        let askedAt = Date().timeIntervalSince1970
        await client.stop()
        let live = accounts.contains { !$0.hasPrefix("D") }
        let rows: [(String, String)] = [
            ("host", host), ("port", String(port)), ("client id", String(settings.clientId)),
            ("server version", String(version)),
            ("accounts", accounts.isEmpty ? "(none reported)" : accounts.joined(separator: ", ")),
            ("kind", live ? "LIVE (an account that does not start with D)" : "paper"),
            ("market data", settings.marketData + " (type \(max(settings.marketDataType, 1)))"),
            ("connected in", String(format: "%.3f s", connected)),
            ("TWS time", time.map { Self.utc.string(from: Date(timeIntervalSince1970: Double($0))) + " UTC" } ?? "(no answer)"),
            // TWS answers in whole seconds (its clock read anywhere in [t, t + 1)): the middle of
            // that second is the estimate; against t itself a clock that agrees showed -1 or -0.
            ("clock offset", time.map { Self.offset(Double($0) + 0.5 - askedAt) + " s (TWS minus this machine)" } ?? "-"),
        ]
        for (key, value) in rows { say(key.padding(toLength: 16, withPad: " ", startingAt: 0) + value) }
    }

    /// Whole seconds, always signed, and never "-0" ("%+.0f" printed -0.4 as "-0").
    static func offset(_ seconds: Double) -> String {
        let whole = seconds.rounded()
        // -0.4 rounds to -0.0, which equals 0.
        return whole == 0 || !whole.isFinite ? "+0" : String(format: "%+.0f", whole)
    }

    static let utc: DateFormatter = {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return formatter
    }()
}
