import Moonwire
import StrategyHost

/// The config file of a command (see `HostConfig.findConfig`); a missing file named by
/// `--config` or `MOONWIRE_CONFIG` is a runtime error that says so.
func configFile(_ flag: String?) throws -> (path: String?, source: String) {
    do {
        return try HostConfig.findConfig(flag: flag)
    } catch let error as HostConfigError {
        throw RuntimeError(error.message)
    }
}

/// How `moonwire run` and `config` name the file they use.
func describe(config: (path: String?, source: String)) -> String {
    config.path.map { "config \($0) (\(config.source))" } ?? "no config file (defaults)"
}

/// The configuration a command runs with: the config file (found as `configFile` finds it),
/// then the connection flags over the environment, `.env` and the file.
/// A `--gateway` that is neither `paper` nor HOST:PORT is a usage mistake (exit 64, with the
/// command's usage), found before any file is read; it was a runtime error (exit 1).
func loadConfiguration(config: String?, gateway: String?, clientId: Int?) throws -> (configuration: MoonwireConfiguration, file: (path: String?, source: String)) {
    if let gateway, gateway != "paper" { _ = try parseEndpoint(gateway) }
    let found = try configFile(config)
    do {
        return (try MoonwireConfiguration.load(configFile: found.path, gateway: gateway, clientId: clientId), found)
    } catch let error as MoonwireError {
        throw RuntimeError(error)
    }
}
