import Foundation
import Testing
@testable import StrategyHost

/// `moonwire check` prints `file:line:` before a warning: the line that defines the misnamed
/// handler, found in the source (Lua's function list has names only).
@Suite("moonwire check: the line of each warning")
struct CheckWarningLineTests {
    @Test("the line defining the function, in each spelling Lua has")
    func definitions() {
        let source = """
            -- function onQuote(q) in a comment is no definition
            local function helper() end
            function onQuote(q) end
            on_tick = function(q) end
            function  OnBar (b) end
            x.onFill = function() end
            """
        #expect(StrategyCheck.definitionLine(of: "onQuote", in: source) == 3)
        #expect(StrategyCheck.definitionLine(of: "on_tick", in: source) == 4)
        #expect(StrategyCheck.definitionLine(of: "OnBar", in: source) == 5)
        // A field of another table, and a name nowhere defined: no line.
        #expect(StrategyCheck.definitionLine(of: "onFill", in: source) == nil)
        #expect(StrategyCheck.definitionLine(of: "on_candle", in: source) == nil)
        // A longer name that starts with this one is another function.
        #expect(StrategyCheck.definitionLine(of: "on", in: "function on_start() end\nfunction on() end\n") == 2)
    }

    @Test("each warning carries its line")
    func warnings() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID().uuidString).lua").path
        try "function on_start() end\n\nfunction on_qoute(q) end\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await StrategyCheck.check(path: path)
        #expect(result.found.count == 1 && result.found.first?.line == 3, "\(result.found)")
        #expect(result.warnings.first?.hasPrefix("on_qoute is not a handler Moonwire calls") == true)
    }
}
