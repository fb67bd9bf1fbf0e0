import ArgumentParser
import Foundation
import LuaRuntime
import NIOPosix
import StrategyHost

/// `moonwire check a.lua b.lua ...`: load each file in the sandbox without connecting. Every
/// error and warning starts with `file:line:` where the line is known (as compilers say it: an
/// editor or CI annotation jumps there), so several files checked at once stay apart.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Load strategies in the sandbox without connecting: syntax errors, handler typos, unknown API calls.")

    @Argument(help: "The strategy files (.lua).") var strategies: [String] = []

    func run() async throws {
        guard !strategies.isEmpty else { throw ValidationError("name at least one strategy file") }
        var failed = false
        for path in strategies {
            let problems = try await StrategyCheck.check(path: path)
            if problems.errors.isEmpty { say("ok: \(path) loads; " + Self.handlerSummary(problems)) }
            for error in problems.errors { say("error: " + Self.located(error, in: path)) }
            for warning in problems.found { say("warning: \(path):" + (warning.line.map { "\($0):" } ?? "") + " \(warning.message)") }
            failed = failed || !problems.errors.isEmpty
        }
        if failed { throw ExitCode(ExitStatus.failure) }
    }

    /// The handlers the host will call, and apart from them any other `on_` function (a
    /// misspelled handler is never called: it must not read as one).
    static func handlerSummary(_ result: StrategyCheck.Result) -> String {
        var text = "handlers: " + (result.handlers.isEmpty ? "none" : result.handlers.joined(separator: ", "))
        if !result.otherOnFunctions.isEmpty {
            text += "; not called by Moonwire (only as posted events): " + result.otherOnFunctions.joined(separator: ", ")
        }
        return text
    }

    /// `error` starting with the path as given: Lua (and the API check) name the file by its
    /// last component only (`s.lua:3: ...`), which two files of one name in two folders share.
    static func located(_ error: String, in path: String) -> String {
        if error.hasPrefix(path + ":") { return error }
        let name = URL(fileURLWithPath: path).lastPathComponent
        if error.hasPrefix(name + ":") { return path + error.dropFirst(name.count) }
        return "\(path): \(error)"
    }
}
