import Foundation
import Logging

/// Everything a `MoonwireRuntime` is started from: what `moonwire run` reads from its flags,
/// the environment and the config file, as values an application can also set itself.
public struct MoonwireConfiguration: Sendable {
    /// Trading, risk, strategy limits, logging and the `strategies:` list.
    public var host = HostConfig()
    /// The built-in paper gateway's market and account (used when `connection` names no host).
    public var paper = PaperGatewayConfig()
    /// Where TWS is (no host: a built-in paper gateway on a free loopback port), the client id,
    /// the account, timeouts and backoff.
    public var connection = ConnectionSettings()
    /// The SQLite journal (default: `host.trading.journal`, in the data folder).
    public var journalPath: String?
    /// The command line's `--live`: a live account needs it and `trading.allow_live: true`.
    public var allowLive = false
    /// Reload a strategy when its file (or a module it required) is saved. Default: on with
    /// the paper gateway, off against TWS.
    public var watchFiles: Bool?
    /// Serve `moonwire halt`, `reload` and `status` on a socket in a private folder next to
    /// the journal (see `ControlChannel`); a start that cannot serve it fails.
    public var controlChannel = true
    /// Log every event of the connection and the paper gateway (default: warnings only).
    public var verbose = false

    public init() {}

    /// The configuration `moonwire run` uses: `configFile` (YAML, nil for the defaults), then
    /// the connection from `gateway` / `clientId` (flags) over `IB_*` / `IBKR_*` variables, a
    /// `.env` file in the working folder, the file's `connection:` section, the defaults.
    /// Throws `MoonwireError` naming the key and where it came from.
    public static func load(configFile: String?, gateway: String? = nil, clientId: Int? = nil) throws -> MoonwireConfiguration {
        var configuration = MoonwireConfiguration()
        do {
            if let configFile {
                configuration.host = try HostConfig.load(path: configFile)
                configuration.paper = try PaperGatewayConfig.load(path: configFile)
            }
            configuration.connection = try ConnectionSettings.resolveForCommandLine(gateway: gateway, clientId: clientId, configPath: configFile)
        } catch let error as HostConfigError {
            throw MoonwireError(error.message)
        } catch let error as ConfigError {
            throw MoonwireError(error.message)
        } catch {
            throw MoonwireError("\(error)")
        }
        return configuration
    }
}

/// Why the runtime could not do what it was asked, in one line a user can act on.
public struct MoonwireError: Error, CustomStringConvertible, Sendable {
    public let message: String
    /// A safety check refused (a live account without both opt-ins, trading closed by a
    /// position nobody can explain), as opposed to something that failed.
    public let refused: Bool
    public init(_ message: String, refused: Bool = false) {
        self.message = message
        self.refused = refused
    }
    public var description: String { message }
}
