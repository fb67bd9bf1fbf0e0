import Foundation
import TestSupport
import Testing
@testable import StrategyHost

@Suite("moonwire check")
struct StrategyCheckTests {
    func check(_ source: String) async throws -> StrategyCheck.Result {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID().uuidString).lua").path
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await StrategyCheck.check(path: path)
    }

    @Test("a good file loads and lists its handlers")
    func good() async throws {
        let result = try await check("function on_start() market.subscribe('AAPL') end\nfunction on_quote(q) end")
        #expect(result.errors.isEmpty && result.warnings.isEmpty)
        #expect(result.handlers == ["on_quote", "on_start"])
        #expect(result.otherOnFunctions.isEmpty)
    }

    @Test("a misspelled handler is not listed among the handlers, but apart, with its warning")
    func misspelledIsNotAHandler() async throws {
        let result = try await check("function on_start() end\nfunction on_tick(q) end")
        #expect(result.handlers == ["on_start"])
        #expect(result.otherOnFunctions == ["on_tick"])
        #expect(result.warnings.count == 1 && result.warnings[0].contains("did you mean on_quote?"), "\(result.warnings)")
    }

    @Test("a syntax error names the line")
    func syntax() async throws {
        let result = try await check("function on_start(\n  x = 1\nend")
        #expect(result.errors.count == 1)
        #expect(result.errors[0].contains(":2:"))
    }

    @Test("a handler that looks like a typo gets a suggestion; an unknown API call is an error")
    func typos() async throws {
        let result = try await check("function on_qoute(q) end\nfunction on_start() orders.by('AAPL', 1) end -- orders.nothing here")
        #expect(result.warnings.contains { $0.contains("on_qoute") && $0.contains("did you mean on_quote?") })
        #expect(result.errors.contains { $0.contains(":2: orders.by does not exist; did you mean orders.buy?") })
        #expect(!result.errors.contains { $0.contains("orders.nothing") }, "comments are not code")
    }

    @Test("every example strategy passes")
    func examples() async throws {
        let folder = SourceTree.url("Strategies")
        for name in ["hello", "sma_cross", "mean_reversion", "bracket"] {
            let result = try await StrategyCheck.check(path: folder.appendingPathComponent(name + ".lua").path)
            #expect(result.errors.isEmpty && result.warnings.isEmpty, "\(name): \(result.errors + result.warnings)")
        }
    }
}

/// `moonwire check`'s list of API names is the API a strategy really has.
@Suite("moonwire check's API list")
struct StrategyCheckAPIListTests {
    @Test("every table of the API has exactly the functions check knows of")
    func listMatchesTheAPI() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-api-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let tables = StrategyCheck.api.keys.sorted()
        let source = "local names = {}\n"
            + tables.map { "for k in pairs(\($0)) do names[#names + 1] = \"\($0).\" .. k end" }.joined(separator: "\n")
            + "\ntable.sort(names)\nfunction on_start() for _, n in ipairs(names) do print(n) end end\n"
        let rig = try await Rig.start(source)
        try await eventually("the names") { !(await rig.lines()).isEmpty }
        let real = Set(await rig.lines())
        let known = Set(StrategyCheck.api.flatMap { table, names in names.map { "\(table).\($0)" } })
        #expect(real == known, "in the API but not in check: \(real.subtracting(known).sorted()); in check only: \(known.subtracting(real).sorted())")
        await rig.stop()
    }
}
