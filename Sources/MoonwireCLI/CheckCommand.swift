import ArgumentParser
import Foundation
import LuaRuntime
import NIOPosix
import StrategyHost

/// `moonwire check STRATEGY.lua`: load the file in the sandbox without connecting.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Load a strategy in the sandbox without connecting: syntax errors, handler typos, unknown API calls.")

    @Argument(help: "The strategy file (.lua).") var strategy: String

    func run() async throws {
        let problems = try await StrategyCheck.check(path: strategy)
        if problems.errors.isEmpty {
            say("ok: \(strategy) loads; handlers: \(problems.handlers.joined(separator: ", "))")
            for warning in problems.warnings { say("warning: \(warning)") }
            return
        }
        for error in problems.errors { say("error: \(error)") }
        for warning in problems.warnings { say("warning: \(warning)") }
        throw ExitCode(1)
    }
}
