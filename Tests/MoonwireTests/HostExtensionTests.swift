import Foundation
import NIOConcurrencyHelpers
import Testing
@testable import Moonwire

/// An application's own Lua functions and events, with the built-in API's safety.
@Suite("Host extensions", .timeLimit(.minutes(1)))
struct HostExtensionTests {
    /// `signals.latest(symbol)` from a table the application keeps; `signals.fetch(symbol)`
    /// waits 300 ms for its answer (as a call to a service would); `signals.fail()` reports a failure.
    static func signals(latest: NIOLockedValueBox<[String: Double]>) throws -> LuaExtension {
        var signals = try LuaExtension(table: "signals")
        try signals.function("latest") { arguments in
            let symbol = try arguments.string(1, "symbol")
            guard let value = latest.withLockedValue({ $0[symbol] }) else { throw ExtensionError(code: "no_signal", "no signal for \(symbol)") }
            return [.number(value)]
        }
        try signals.waitingFunction("fetch") { arguments in
            let symbol = try arguments.string(1, "symbol")
            let strategy = arguments.strategy
            return {
                try await Task.sleep(for: .milliseconds(300))
                return [.string("\(symbol) for \(strategy)")]
            }
        }
        try signals.function("slow") { arguments in
            Thread.sleep(forTimeInterval: try arguments.number(1, "seconds"))
            return []
        }
        return signals
    }

    @Test("a Swift function answers Lua; wrong arguments raise naming the call; a failure is nil, err")
    func immediate() async throws {
        let latest = NIOLockedValueBox<[String: Double]>(["AAPL": 0.75])
        let embedded = try await Embedded.start(extensions: [try Self.signals(latest: latest)])
        try await embedded.runtime.addStrategy(file: try embedded.write("user.lua", """
            function on_start()
              log.info("latest " .. signals.latest("AAPL"))
              local value, err = signals.latest("MSFT")
              log.info("missing " .. tostring(value) .. " " .. err.code .. " " .. err.message)
              local ok, problem = pcall(signals.latest, 42)
              log.info("wrong " .. tostring(ok) .. " " .. problem)
              local ok2, problem2 = pcall(signals.latest, setmetatable({}, { __index = function() error("ran") end }))
              log.info("table " .. tostring(ok2) .. " " .. problem2)
            end
            """))
        let lines = try await embedded.waitForLines("user") { $0.count >= 4 }
        #expect(lines.first == "latest 0.75")
        #expect(lines.contains("missing nil no_signal signals.latest: no signal for MSFT"))
        #expect(lines.contains("wrong false signals.latest: argument 1 (symbol) must be a string, got number"))
        #expect(lines.contains("table false signals.latest: argument 1 (symbol) must be a string, got table"))
        _ = await embedded.stop()
    }

    @Test("a waiting function suspends only its handler: other events are delivered meanwhile, then it resumes")
    func waiting() async throws {
        let embedded = try await Embedded.start(extensions: [try Self.signals(latest: NIOLockedValueBox([:]))])
        try await embedded.runtime.addStrategy(file: try embedded.write("waiter.lua", """
            function on_start()
              timer.after(0.05, function() log.info("timer while waiting") end)
              log.info("asked")
              log.info("answer " .. signals.fetch("AAPL"))
              table.sort({ 3, 2, 1 }, function(a, b)
                local ok, problem = pcall(signals.fetch, "X")
                if not reported then reported = true; log.info("in sort " .. tostring(ok) .. " " .. problem) end
                return a < b
              end)
            end
            """))
        let lines = try await embedded.waitForLines("waiter") { $0.count >= 4 }
        #expect(Array(lines.prefix(3)) == ["asked", "timer while waiting", "answer AAPL for waiter"])
        #expect(lines.count == 4 && lines[3].hasPrefix("in sort false signals.fetch waits for TWS, so it can only be called directly in a handler"),
                "\(lines)")
        _ = await embedded.stop()
    }

    @Test("time in an extension counts: one that blocks past the hard limit gets the strategy declared hung")
    func budget() async throws {
        let embedded = try await Embedded.start(extensions: [try Self.signals(latest: NIOLockedValueBox([:]))]) { configuration in
            configuration.host.strategy.hardLimitMs = 300
        }
        let events = embedded.runtime.events()
        try await embedded.runtime.addStrategy(file: try embedded.write("slow.lua", "function on_start() signals.slow(1.5) end"))
        var notice = ""
        for await event in events {
            if case let .notice(line) = event, line.contains("hung") || line.contains("did not return") {
                notice = line
                break
            }
        }
        #expect(notice.contains("slow"), "\(notice)")
        _ = await embedded.stop()
    }

    @Test("the application posts its own events to a strategy's handler, in order, to one strategy or all")
    func postedEvents() async throws {
        let embedded = try await Embedded.start()
        let source = """
            function on_signal(symbol, strength, extra) log.info(string.format("signal %s %.2f %s", symbol, strength, extra.note)) end
            """
        try await embedded.runtime.addStrategy(file: try embedded.write("one.lua", source))
        try await embedded.runtime.addStrategy(file: try embedded.write("two.lua", source))
        for index in 1...50 {
            try embedded.runtime.post("on_signal", [.string("AAPL"), .number(Double(index) / 100), .record(["note": .string("n\(index)")])], to: "one")
        }
        #expect(try embedded.runtime.post("on_signal", [.string("ALL"), .number(1), .record(["note": .string("all")])]) == 2)
        let one = try await embedded.waitForLines("one") { $0.count >= 51 }
        #expect(one == (1...50).map { String(format: "signal AAPL %.2f n\($0)", Double($0) / 100) } + ["signal ALL 1.00 all"])
        #expect(try await embedded.waitForLines("two") { !$0.isEmpty } == ["signal ALL 1.00 all"])
        _ = await embedded.stop()
    }

    @Test("an extension cannot take a built-in name, and its names must be Lua names")
    func definitions() throws {
        #expect(throws: LuaExtensionError.self) { try LuaExtension(table: "orders") }
        #expect(throws: LuaExtensionError.self) { try LuaExtension(table: "my table") }
        var signals = try LuaExtension(table: "signals")
        try signals.function("latest") { _ in [] }
        #expect(throws: LuaExtensionError.self) { try signals.function("latest") { _ in [] } }
        #expect(throws: LuaExtensionError.self) { try signals.function("1st") { _ in [] } }
    }
}
