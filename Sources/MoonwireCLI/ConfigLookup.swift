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
