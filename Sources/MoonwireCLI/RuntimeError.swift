import ArgumentParser
import Foundation
import Moonwire
import TWSProtocol

/// A failure while running (no connection, a strategy that does not load) or a refusal by a
/// safety check: printed as one line `error: ...` with no usage text. Usage mistakes stay
/// `ValidationError`s, which print the usage (exit 64).
struct RuntimeError: Error, CustomStringConvertible {
    let message: String
    let code: Int32
    init(_ message: String, code: Int32 = ExitStatus.failure) {
        self.message = message
        self.code = code
    }
    init(_ error: MoonwireError) { self.init(error.message, code: error.refused ? ExitStatus.refused : ExitStatus.failure) }
    var description: String { message }
}

/// The exit statuses the README documents.
enum ExitStatus {
    static let success: Int32 = 0
    /// Something failed: no connection, a file that does not load, a bad config value.
    static let failure: Int32 = 1
    /// A safety check refused: a live account without both opt-ins, trading closed by a
    /// position nobody can explain.
    static let refused: Int32 = 3
    /// A usage mistake (ArgumentParser's).
    static let usage: Int32 = 64
    /// Ended by Ctrl-C (SIGINT) or SIGTERM: 128 + the signal, as shells do.
    static func signal(_ number: Int32) -> Int32 { 128 + number }
}

extension MoonwireCommand {
    /// Parses, runs, and ends with the documented status: `error: ...` on one line for a
    /// runtime failure, the usage only for a usage mistake.
    static func main() async {
        DescriptorOutput.ignoreBrokenPipes()
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let error as RuntimeError {
            Console.shared.clearStatus()
            DescriptorOutput.write("error: \(ShownText.shown(error.message, lineBreak: "\n"))\n", to: STDERR_FILENO)
            Foundation.exit(error.code)
        } catch let error as MoonwireError {
            DescriptorOutput.write("error: \(ShownText.shown(error.message, lineBreak: "\n"))\n", to: STDERR_FILENO)
            Foundation.exit(error.refused ? ExitStatus.refused : ExitStatus.failure)
        } catch let error as ValidationError {
            exitWithUsage(error, of: type(of: command))
        } catch let error as ExitCode {
            exit(withError: error)
        } catch let error as CleanExit {
            exit(withError: error)
        } catch {
            // `--help` (and `help run`) parses into ArgumentParser's own help command, whose
            // run() "fails" with a help request: it prints the help and exits 0 there.
            if exitCode(for: error).isSuccess { exit(withError: error) }
            DescriptorOutput.write("error: \(ShownText.shown("\(error)", lineBreak: "\n"))\n", to: STDERR_FILENO)
            Foundation.exit(ExitStatus.failure)
        }
    }
}

extension MoonwireCommand {
    /// A usage mistake found while a command ran (`--to` before `--from`, `--param n`): the
    /// message, then the usage of THAT command and where its help is, exit 64, as
    /// ArgumentParser says a mistake it finds while parsing. (Its own `exit(withError:)` knows
    /// only the root here, and printed `Usage: moonwire <subcommand>`.)
    static func exitWithUsage(_ error: ValidationError, of command: ParsableCommand.Type) -> Never {
        Console.shared.clearStatus()
        let path = commandPath(to: command) ?? [_commandName]
        let usage = usageString(for: command)
        let text = "Error: \(ShownText.shown(error.message, lineBreak: "\n"))\n"
            + "Usage: \(usage)\n"
            + "  See '\(path.joined(separator: " ")) --help' for more information.\n"
        DescriptorOutput.write(text, to: STDERR_FILENO)
        Foundation.exit(ExitStatus.usage)
    }

    /// The names from `moonwire` down to `command` (`moonwire history export`), nil if it is
    /// not one of this tool's commands.
    static func commandPath(to command: ParsableCommand.Type, from root: ParsableCommand.Type = MoonwireCommand.self) -> [String]? {
        if root == command { return [root._commandName] }
        for subcommand in root.configuration.subcommands {
            if let rest = commandPath(to: command, from: subcommand) { return [root._commandName] + rest }
        }
        return nil
    }
}
