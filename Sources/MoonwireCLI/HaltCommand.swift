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

/// Sends `command` to every `moonwire run` registered for the journal, all at once (one
/// that does not answer holds up no other), and prints each answer. A run that no longer
/// runs (its socket refuses, its process is gone) has its files removed; one that cannot be
/// asked is reported and left alone; no signal ever goes to a process id read from a file.
/// Returns the replies and, per run that could not be asked, why.
@discardableResult
func sendToRuns(_ command: String, journal: String, timeout: Double = 30) async throws -> (replies: [String], failures: [String]) {
    let answers: [(pid: Int32, answer: ControlChannel.Answer)]
    do {
        answers = try await ControlChannel.ask(command, journal: journal, group: MultiThreadedEventLoopGroup.singleton, timeout: timeout)
    } catch {
        throw RuntimeError("\(error)")
    }
    var replies: [String] = []
    var failures: [String] = []
    for (pid, answer) in answers {
        switch answer {
        case let .replied(text):
            say("moonwire run (process \(pid)):")
            say(text.trimmingCharacters(in: .newlines))
            replies.append(text)
        case .gone:
            say("removed the control files of process \(pid), which no longer runs")
        case let .failed(why):
            failures.append("process \(pid): \(why)")
            Console.shared.log("warning: moonwire run (process \(pid)): \(why)")
        }
    }
    guard !replies.isEmpty else {
        throw RuntimeError("no running `moonwire run` with journal \(journal) answered"
                           + (failures.isEmpty ? "" : " (\(failures.joined(separator: "; ")))"))
    }
    return (replies, failures)
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

/// `moonwire halt`: the kill switch. The running `moonwire run` closes its order gate (no
/// order leaves any more), cancels the working orders its strategies placed (with `--all`,
/// every open order of the account), reads TWS's open orders back and stops; this command
/// prints its answer and exits 1 while any order of ours still works (or a run was not reached).
struct HaltCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "halt",
        abstract: "Kill switch: the running `moonwire run` lets no order leave, cancels the orders it placed (--all: every order of "
            + "the account), reads TWS back and stops; exit 1 while an order of ours still works.")

    @Option(help: "The journal of the run to halt (default: trading.journal of the config, or the data folder).") var journal: String?
    @Option(help: "YAML config (default: $MOONWIRE_CONFIG, else ./Config/moonwire.yaml, else ~/.config/moonwire/moonwire.yaml).") var config: String?
    @Flag(help: "Also send TWS's global cancel: every open order of the account, manual ones and other clients' included.") var all = false

    func run() async throws {
        // The run's halt takes 10 s past the time its cancels take to leave, 100 s at most.
        let path = try journalPath(journal: journal, config: config)
        let (replies, failures) = try await sendToRuns(all ? "halt --all" : "halt", journal: path, timeout: 120)
        // Which orders those were, by name: the answer counts them by id.
        for reply in replies {
            for line in await HaltedOrders.lines(for: reply, journal: path) { say(line) }
        }
        // Exit 1 while anything of ours may still work: a run that says so, or one not reached.
        let incomplete = replies.filter { !$0.hasPrefix(HaltReport.completePrefix) }
        guard incomplete.isEmpty && failures.isEmpty else {
            let left = incomplete.flatMap { $0.split(separator: "\n").filter { $0.hasPrefix("  still working: ") } }
                .map { $0.dropFirst("  still working: ".count) }
            let named = left.prefix(10).joined(separator: "; ") + (left.count > 10 ? "; and \(left.count - 10) more (listed above)" : "")
            throw RuntimeError("halt incomplete: " + (left.isEmpty ? "" : "still working: \(named)")
                               + (failures.isEmpty ? "" : (left.isEmpty ? "" : "; ") + "not reached: \(failures.joined(separator: "; "))")
                               + (left.isEmpty && failures.isEmpty ? "TWS did not confirm (see above)" : ""))
        }
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
