import Foundation
import Testing
@testable import StrategyHost

/// Where the connection settings come from, key by key: flag > environment > .env > config >
/// default, with the source of each, and bad values refused naming key and source.
@Suite("Connection settings: precedence, sources, bad values, IPv6")
struct ConnectionSettingsTests {
    func resolve(gateway: String? = nil, clientId: Int? = nil, environment: [String: String] = [:], dotenv: [String: String]? = nil,
                 config: [String: Any] = [:], trading: [String: Any] = [:]) throws -> ConnectionSettings
    {
        try ConnectionSettings.resolve(gateway: gateway, clientId: clientId, environment: environment, dotenv: dotenv.map { ($0, ".env") },
                                       config: config, trading: trading, configSource: "moonwire.yaml")
    }

    @Test("nothing set: the built-in paper gateway, client id 1, every source 'default'")
    func defaults() throws {
        let settings = try resolve()
        #expect(settings.usesPaperGateway && settings.clientId == 1 && settings.marketData == "live")
        #expect(ConnectionSettings.keys.allSatisfy { settings.sources[$0] == "default" })
    }

    @Test("each key: flag > environment > .env > config > default", arguments: ["host", "port", "client_id", "account"])
    func precedence(_ key: String) throws {
        let name = ConnectionSettings.environmentNames[key]!
        let values: [String: (config: String, dotenv: String, environment: String)] = [
            "host": ("10.0.0.1", "10.0.0.2", "10.0.0.3"), "port": ("4001", "4002", "7497"),
            "client_id": ("11", "12", "13"), "account": ("DU1", "DU2", "DU3"),
        ]
        let v = values[key]!
        func value(_ s: ConnectionSettings) -> String {
            switch key {
            case "host": return s.host ?? ""
            case "port": return s.port.map(String.init) ?? ""
            case "client_id": return String(s.clientId)
            default: return s.account
            }
        }
        let config: [String: Any] = [key: v.config]
        var settings = try resolve(config: config)
        #expect(value(settings) == v.config && settings.sources[key] == "moonwire.yaml connection.\(key)")
        settings = try resolve(dotenv: ["IB_" + name: v.dotenv], config: config)
        #expect(value(settings) == v.dotenv && settings.sources[key] == ".env IB_\(name)")
        settings = try resolve(environment: ["IBKR_" + name: v.environment], dotenv: ["IB_" + name: v.dotenv], config: config)
        #expect(value(settings) == v.environment && settings.sources[key] == "environment IBKR_\(name)")
        settings = try resolve(environment: ["IB_" + name: v.environment, "IBKR_" + name: "ignored"], config: config)
        #expect(settings.sources[key] == "environment IB_\(name)", "IB_ wins over IBKR_")
        if key == "client_id" {
            settings = try resolve(clientId: 42, environment: ["IB_CLIENT_ID": "13"])
            #expect(settings.clientId == 42 && settings.sources[key] == "--client-id")
            settings = try resolve(trading: ["client_id": 7])
            #expect(settings.clientId == 7 && settings.sources[key] == "moonwire.yaml trading.client_id")
        }
        if key == "host" || key == "port" {
            settings = try resolve(gateway: "127.0.0.1:4002", environment: ["IB_" + name: v.environment])
            #expect(settings.sources[key] == "--gateway")
            settings = try resolve(gateway: "paper", environment: ["IB_" + name: v.environment])
            #expect(settings.usesPaperGateway, "--gateway paper wins over the environment")
        }
    }

    @Test("a host or port set anywhere means TWS, with the other defaulted (127.0.0.1, 7497)")
    func partialEndpoint() throws {
        let settings = try resolve(environment: ["IB_PORT": "4002"])
        #expect(settings.host == "127.0.0.1" && settings.port == 4002 && !settings.usesPaperGateway)
    }

    @Test("bad values are refused naming the key and where it came from")
    func badValues() {
        func message(_ body: () throws -> ConnectionSettings) -> String { do { _ = try body(); return "" } catch { return "\(error)" } }
        #expect(message { try resolve(environment: ["IB_PORT": "70000"]) }.contains("environment IB_PORT: port '70000'"))
        #expect(message { try resolve(dotenv: ["IB_CLIENT_ID": "one"]) }.contains(".env IB_CLIENT_ID: client_id 'one'"))
        #expect(message { try resolve(config: ["market_data": "sometimes"]) }.contains("moonwire.yaml connection.market_data: market_data 'sometimes'"))
        #expect(message { try resolve(config: ["hots": "x"]) }.contains("connection.hots is not a setting"))
        #expect(message { try resolve(gateway: "localhost") }.contains("is not HOST:PORT"))
    }

    @Test("IPv6 endpoints: [::1]:7497 from the flag, ::1 from the environment")
    func ipv6() throws {
        #expect(try ConnectionSettings.parseEndpoint("[::1]:7497") == ("::1", 7497))
        #expect(try ConnectionSettings.parseEndpoint("localhost:4001") == ("localhost", 4001))
        #expect(throws: HostConfigError.self) { try ConnectionSettings.parseEndpoint("::1:7497") }
        let settings = try resolve(environment: ["IB_HOST": "::1", "IB_PORT": "4002"])
        #expect(settings.host == "::1" && settings.port == 4002)
    }

    @Test(".env: comments, export, quotes")
    func dotenv() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-\(UUID().uuidString).env").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "# my TWS\nexport IB_HOST=\"10.1.2.3\"\nIB_PORT = 4002\n\nIB_ACCOUNT='DU999'\nnot a line\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(ConnectionSettings.readDotenv(file) == ["IB_HOST": "10.1.2.3", "IB_PORT": "4002", "IB_ACCOUNT": "DU999"])
    }
}
