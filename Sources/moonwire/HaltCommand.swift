import ArgumentParser
import Foundation
import StrategyHost

/// The pid of the `moonwire run` that writes to a journal (its pid file).
func runningProcess(journal: String?, config: String?) throws -> (pid: Int32, journal: String) {
    var path = journal
    if path == nil {
        let configPath = config ?? (FileManager.default.fileExists(atPath: "Config/moonwire.yaml") ? "Config/moonwire.yaml" : nil)
        path = try configPath.map { try HostConfig.load(path: $0).trading.journal } ?? HostConfig().trading.journal
    }
    let pidFile = path! + ".pid"
    guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
        throw ValidationError("no running `moonwire run` with journal \(path!) (no \(pidFile))")
    }
    return (pid, path!)
}

/// `moonwire reload`: the running `moonwire run` reloads its strategy now (same as SIGHUP).
struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload", abstract: "Reload the running strategy's file now (same as sending SIGHUP to `moonwire run`).")

    @Option(help: "The journal of the run (default: trading.journal of the config).") var journal: String?
    @Option(help: "YAML config (default: Config/moonwire.yaml when present).") var config: String?

    func run() throws {
        let process = try runningProcess(journal: journal, config: config)
        guard kill(process.pid, SIGHUP) == 0 else { throw ValidationError("process \(process.pid) is not running") }
        say("reload sent to moonwire run (process \(process.pid))")
    }
}

/// `moonwire halt`: the kill switch. The running `moonwire run` cancels every open order and
/// stops its strategies.
struct HaltCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "halt",
        abstract: "Kill switch: the running `moonwire run` cancels every open order and stops (same as sending it SIGUSR1).")

    @Option(help: "The journal of the run to halt (default: trading.journal of the config).") var journal: String?
    @Option(help: "YAML config (default: Config/moonwire.yaml when present).") var config: String?

    func run() throws {
        let process = try runningProcess(journal: journal, config: config)
        guard kill(process.pid, SIGUSR1) == 0 else { throw ValidationError("process \(process.pid) is not running") }
        say("halt sent to moonwire run (process \(process.pid))")
    }
}
