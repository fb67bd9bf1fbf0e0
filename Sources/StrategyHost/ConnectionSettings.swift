import Foundation
import TWSClient
import Yams

/// Where and how to connect, from the sources the users' previous tools read, in order of
/// precedence: a command-line flag, then the environment (`IB_HOST`, `IB_PORT`,
/// `IB_CLIENT_ID`, `IB_ACCOUNT`, or their `IBKR_` spellings), then a `.env` file in the
/// working folder, then the config's `connection:` section (and `trading.client_id`), then
/// the default. Each value remembers where it came from (`moonwire config` prints it), and a
/// bad value is refused naming the key and that source.
public struct ConnectionSettings: Sendable, Equatable {
    /// nil: the built-in paper gateway; else TWS / IB Gateway at this host and port.
    public var host: String?
    public var port: Int?
    public var clientId = 1
    /// The account to trade and report (empty: the first one TWS manages).
    public var account = ""
    public var connectTimeout = 30.0
    public var requestTimeout = 30.0
    public var backoffBase = 1.0
    public var backoffCap = 60.0
    /// live, frozen, delayed or delayed-frozen (IB's market data types 1, 2, 3, 4).
    public var marketData = "live"
    /// Key → where its value came from.
    public var sources: [String: String] = [:]

    public init() {}

    /// True when the built-in paper gateway is used.
    public var usesPaperGateway: Bool { host == nil }

    public var marketDataType: Int {
        switch marketData {
        case "frozen": return 2
        case "delayed": return 3
        case "delayed-frozen": return 4
        case "auto": return TWSClientConfiguration.automaticMarketData
        default: return 1
        }
    }

    static let keys = ["host", "port", "client_id", "account", "connect_timeout", "request_timeout", "backoff_base", "backoff_cap", "market_data"]
    static let environmentNames: [String: String] = ["host": "HOST", "port": "PORT", "client_id": "CLIENT_ID", "account": "ACCOUNT"]

    /// Resolves every key. `gateway` is the `--gateway` flag (`paper` or `HOST:PORT`).
    public static func resolve(gateway: String?, clientId: Int?, environment: [String: String], dotenv: (values: [String: String], file: String)?,
                               config: [String: Any], trading: [String: Any], configSource: String) throws -> ConnectionSettings
    {
        var settings = ConnectionSettings()
        for key in config.keys.sorted() where !keys.contains(key) {
            throw HostConfigError(message: "\(configSource): connection.\(key) is not a setting (known: \(keys.joined(separator: ", ")))")
        }
        /// The value of `key` and its source, from the highest source that has it.
        func lookup(_ key: String) -> (value: String, source: String)? {
            if let name = environmentNames[key] {
                for prefix in ["IB_", "IBKR_"] {
                    if let value = environment[prefix + name], !value.isEmpty { return (value, "environment \(prefix + name)") }
                }
                if let dotenv {
                    for prefix in ["IB_", "IBKR_"] {
                        if let value = dotenv.values[prefix + name], !value.isEmpty { return (value, "\(dotenv.file) \(prefix + name)") }
                    }
                }
            }
            if let value = config[key] { return ("\(value)", "\(configSource) connection.\(key)") }
            if key == "client_id", let value = trading["client_id"] { return ("\(value)", "\(configSource) trading.client_id") }
            return nil
        }
        func number(_ key: String, _ value: String, _ source: String, _ range: ClosedRange<Double>) throws -> Double {
            guard let number = Double(value), range.contains(number) else {
                // Whole bounds read as whole numbers (1 to 65535, not 1.0 to 65535.0).
                func bound(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x) }
                throw HostConfigError(message: "\(source): \(key) '\(value)' must be a number from \(bound(range.lowerBound)) to \(bound(range.upperBound))")
            }
            return number
        }
        for key in keys {
            guard let (value, source) = lookup(key) else {
                settings.sources[key] = "default"
                continue
            }
            settings.sources[key] = source
            switch key {
            case "host":
                guard !value.isEmpty, !value.contains(" ") else { throw HostConfigError(message: "\(source): host '\(value)' is not a host name or address") }
                settings.host = value.hasPrefix("[") && value.hasSuffix("]") ? String(value.dropFirst().dropLast()) : value
            case "port": settings.port = Int(try number(key, value, source, 1...65535))
            case "client_id":
                let id = try number(key, value, source, 0...2_147_483_647)
                guard id.rounded() == id else { throw HostConfigError(message: "\(source): client_id '\(value)' must be a whole number") }
                settings.clientId = Int(id)
            case "account": settings.account = value
            case "connect_timeout": settings.connectTimeout = try number(key, value, source, 1...600)
            case "request_timeout": settings.requestTimeout = try number(key, value, source, 1...3600)
            case "backoff_base": settings.backoffBase = try number(key, value, source, 0.05...60)
            case "backoff_cap": settings.backoffCap = try number(key, value, source, 0.05...3600)
            case "market_data":
                guard ["live", "frozen", "delayed", "delayed-frozen", "auto"].contains(value) else {
                    throw HostConfigError(message: "\(source): market_data '\(value)' is not live, frozen, delayed, delayed-frozen or auto")
                }
                settings.marketData = value
            default: break
            }
        }
        // Any host or port set anywhere means TWS; with neither, the built-in paper gateway.
        if settings.host != nil || settings.port != nil {
            settings.host = settings.host ?? "127.0.0.1"
            settings.port = settings.port ?? 7497
        }
        if let gateway {
            if gateway == "paper" {
                settings.host = nil
                settings.port = nil
            } else {
                let endpoint = try parseEndpoint(gateway)
                settings.host = endpoint.host
                settings.port = endpoint.port
                settings.sources["host"] = "--gateway"
                settings.sources["port"] = "--gateway"
            }
        }
        if let clientId {
            guard clientId >= 0 else { throw HostConfigError(message: "--client-id \(clientId) must not be negative") }
            settings.clientId = clientId
            settings.sources["client_id"] = "--client-id"
        }
        return settings
    }

    /// `HOST:PORT`, `[IPV6]:PORT` (also `IPV6:PORT` when unambiguous is not accepted: use brackets).
    public static func parseEndpoint(_ text: String) throws -> (host: String, port: Int) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw HostConfigError(message: "--gateway '\(text)' is not [IPV6]:PORT (e.g. [::1]:7497)") }
            portText = rest.dropFirst()
        } else {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw HostConfigError(message: "--gateway '\(text)' is not HOST:PORT (e.g. 127.0.0.1:7497, [::1]:7497) or paper")
            }
            host = parts[0]
            portText = parts[1]
        }
        guard !host.isEmpty, let port = Int(portText), (1...65535).contains(port) else {
            throw HostConfigError(message: "--gateway '\(text)' is not HOST:PORT (e.g. 127.0.0.1:7497, [::1]:7497) or paper")
        }
        return (String(host), port)
    }

    /// `KEY=VALUE` lines of a `.env` file (comments, blank lines, `export`, quotes allowed).
    public static func readDotenv(_ path: String) -> [String: String]? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        var values: [String: String] = [:]
        for raw in text.split(whereSeparator: \.isNewline) {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)) }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            values[key] = value
        }
        return values
    }

    /// The sections a config file has for the connection (`connection:`, `trading:`).
    public static func sections(ofConfig path: String?) throws -> (connection: [String: Any], trading: [String: Any]) {
        guard let path, let data = FileManager.default.contents(atPath: path) else { return ([:], [:]) }
        let document = (try? Yams.load(yaml: String(decoding: data, as: UTF8.self))) as? [String: Any] ?? [:]
        let connection: Any = document["connection"] ?? [String: Any]()
        guard let mapping = connection as? [String: Any] else { throw HostConfigError(message: "\(path): connection must be a mapping") }
        return (mapping, document["trading"] as? [String: Any] ?? [:])
    }

    /// One line per setting: `key = value  (source)`.
    public var description: [String] {
        let values: [String: String] = [
            "host": host ?? "(built-in paper gateway)", "port": port.map(String.init) ?? "(a free loopback port)",
            "client_id": String(clientId), "account": account.isEmpty ? "(the first TWS manages)" : account,
            "connect_timeout": "\(connectTimeout) s", "request_timeout": "\(requestTimeout) s", "backoff_base": "\(backoffBase) s",
            "backoff_cap": "\(backoffCap) s", "market_data": marketData,
        ]
        return Self.keys.map { "\($0.padding(toLength: 16, withPad: " ", startingAt: 0)) \(values[$0] ?? "")  (\(sources[$0] ?? "default"))" }
    }
}

extension ConnectionSettings {
    /// The settings as `moonwire` resolves them: its flags, the process's environment, `.env` in
    /// the working folder, the config at `configPath`.
    public static func resolveForCommandLine(gateway: String?, clientId: Int?, configPath: String?) throws -> ConnectionSettings {
        let sections = try sections(ofConfig: configPath)
        let dotenv = readDotenv(FileManager.default.currentDirectoryPath + "/.env").map { (values: $0, file: ".env") }
        return try resolve(gateway: gateway, clientId: clientId, environment: ProcessInfo.processInfo.environment, dotenv: dotenv,
                           config: sections.connection, trading: sections.trading, configSource: configPath ?? "the config")
    }
}
