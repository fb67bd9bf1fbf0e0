import Foundation
import Testing
@testable import StrategyHost

/// `moonwire check` suggests the handler a misnamed function means: by form (`onQuote`), by
/// meaning (`on_tick` -> on_quote, `on_trade` -> on_fill), then by spelling (`on_qoute`).
/// Before, only spelling counted: `on_tick` got "did you mean on_fill?" (3 edits away) and
/// `onQuote` was never flagged, so it was silently never called.
@Suite("moonwire check: suggestions by form and meaning")
struct HandlerNameSuggestionTests {
    func warnings(_ source: String) async throws -> [String] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("suggest-\(UUID().uuidString).lua").path
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await StrategyCheck.check(path: path).warnings
    }

    @Test("each misnamed handler is flagged with the handler it means", arguments: [
        ("on_tick", "on_quote"), ("onQuote", "on_quote"), ("OnQuote", "on_quote"), ("ON_QUOTE", "on_quote"), ("onquote", "on_quote"),
        ("on_trade", "on_fill"), ("on_execution", "on_fill"), ("on_candle", "on_bar"), ("onBar", "on_bar"), ("on_init", "on_start"),
        ("on_shutdown", "on_stop"), ("on_disconnect", "on_connection"), ("on_qoute", "on_quote"), ("on_fil", "on_fill"),
        ("on_order_status", "on_order"), ("on_ticks", "on_quote"), ("on_new_bar", "on_bar"),
    ])
    func suggested(name: String, meant: String) async throws {
        let found = try await warnings("function on_start() end\nfunction \(name)(x) end\n")
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.hasPrefix("\(name) is not a handler Moonwire calls; did you mean \(meant)?") == true, "\(found)")
    }

    @Test("helpers that only start with the letters o, n are left alone; real handlers too")
    func helpers() async throws {
        let found = try await warnings("function once() end\nfunction online_mean() end\nfunction one_shot() end\nfunction only() end\n"
                                       + "function on_quote(q) end\nfunction on_fill(f) end\n")
        #expect(found.isEmpty, "\(found)")
    }

    @Test("a handler-like name close to nothing is still flagged, without a guess")
    func noGuess() async throws {
        let found = try await warnings("function on_xyzzy_plugh() end\n")
        #expect(found.count == 1 && found[0].hasPrefix("on_xyzzy_plugh is not a handler Moonwire calls (handlers: "), "\(found)")
    }

    @Test("words of a name: camel case, snake case, shouting")
    func words() {
        #expect(HandlerNameSuggestion.words(of: "onQuoteUpdate") == ["on", "quote", "update"])
        #expect(HandlerNameSuggestion.words(of: "ON_QUOTE") == ["on", "quote"])
        #expect(HandlerNameSuggestion.words(of: "on__tick") == ["on", "tick"])
    }
}
