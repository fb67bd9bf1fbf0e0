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
            exit(withError: error)
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
