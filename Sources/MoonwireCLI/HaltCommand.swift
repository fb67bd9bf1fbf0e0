import ArgumentParser
import Foundation
import NIOPosix
import StrategyHost

/// The journal a command names: `--journal`, else trading.journal of the config, else the default.
func journalPath(journal: String?, config: String?) throws -> String {
    if let journal { return journal }
    let configPath = try configFile(config).path
    do {
        return try configPath.map { try HostConfig.load(path: $0).trading.journal } ?? HostConfig().trading.journal
    } catch {
        throw RuntimeError("\(error)")
    }
}

/// Sends `command` to every `moonwire run` on the journal through its control channel and
/// prints each answer. A socket nobody serves (a run that was killed) is removed, and no
/// signal ever goes to a process id read from a file.
func sendToRuns(_ command: String, journal: String) async throws {
    var answered = 0
    for socket in ControlChannel.sockets(journal: journal) {
        do {
            let reply = try await ControlChannel.send(command, to: socket.path, group: MultiThreadedEventLoopGroup.singleton, timeout: 30)
            say("moonwire run (process \(socket.pid)):")
            say(reply.trimmingCharacters(in: .newlines))
            answered += 1
        } catch let error as ControlChannelError {
            throw RuntimeError(error.message)
        } catch {
            try? FileManager.default.removeItem(atPath: socket.path)
            say("removed the control socket of process \(socket.pid), which no longer runs")
        }
    }
    guard answered > 0 else { throw RuntimeError("no running `moonwire run` with journal \(journal)") }
}

/// `moonwire reload`: the running `moonwire run` reloads its strategies now.
struct ReloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload", abstract: "Reload the running strategies' files now (through the run's control channel).")

    @Option(help: "The journal of the run (default: trading.journal of the config, or the data folder).") var journal: String?
    @Option(help: "YAML config (default: $MOONWIRE_CONFIG, else ./Config/moonwire.yaml, else ~/.config/moonwire/moonwire.yaml).") var config: String?

    func run() async throws {
        try await sendToRuns("reload", journal: try journalPath(journal: journal, config: config))
    }
}

/// `moonwire halt`: the kill switch. The running `moonwire run` stops every order from
/// leaving, cancels the open orders its strategies placed (with `--all`, every open order of
/// the account), waits for the cancellations and stops; this command returns its answer.
struct HaltCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "halt",
        abstract: "Kill switch: the running `moonwire run` cancels the orders it placed (--all: every order of the account) and stops.")

    @Option(help: "The journal of the run to halt (default: trading.journal of the config, or the data folder).") var journal: String?
    @Option(help: "YAML config (default: $MOONWIRE_CONFIG, else ./Config/moonwire.yaml, else ~/.config/moonwire/moonwire.yaml).") var config: String?
    @Flag(help: "Also send TWS's global cancel: every open order of the account, manual ones and other clients' included.") var all = false

    func run() async throws {
        try await sendToRuns(all ? "halt --all" : "halt", journal: try journalPath(journal: journal, config: config))
    }
}

/// `moonwire status`: what a running `moonwire run` is doing.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show what the running `moonwire run` is doing: connection, orders, each strategy.")

    @Option(help: "The journal of the run (default: trading.journal of the config, or the data folder).") var journal: String?
    @Option(help: "YAML config (default: $MOONWIRE_CONFIG, else ./Config/moonwire.yaml, else ~/.config/moonwire/moonwire.yaml).") var config: String?

    func run() async throws {
        try await sendToRuns("status", journal: try journalPath(journal: journal, config: config))
    }
}
