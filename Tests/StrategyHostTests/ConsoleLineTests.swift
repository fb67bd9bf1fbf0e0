import LuaRuntime
import Testing
@testable import StrategyHost

@Suite("A handler's failure as one console line")
struct ConsoleLineTests {
    // As Lua 5.4's traceback handler writes it for error() two calls deep in a strategy file.
    static let traceback = """
        stack traceback:
        \t[C]: in function 'error'
        \tmoonwire/log.lua:7: in function 'wrapped'
        \tmomentum.lua:4: in upvalue 'check'
        \tmomentum.lua:13: in function 'on_bar'
        """

    @Test("a message that names its place is kept as it is")
    func placed() {
        let error = LuaError(message: "momentum.lua:4: bad bar 101.2", traceback: Self.traceback)
        #expect(ConsoleLine.handlerFailure("on_bar", error) == "on_bar failed: momentum.lua:4: bad bar 101.2")
    }

    @Test("a message without a place gets the first frame of the strategy's own Lua")
    func unplaced() {
        let error = LuaError(message: "attempt to compare number with nil", traceback: Self.traceback)
        #expect(ConsoleLine.handlerFailure("on_bar", error) == "on_bar failed: momentum.lua:4: attempt to compare number with nil")
        // Only the host's Lua on the stack: its frame is still a place.
        let host = LuaError(message: "boom", traceback: "stack traceback:\n\t[C]: in ?\n\tmoonwire/log.lua:7: in function 'wrapped'")
        #expect(ConsoleLine.handlerFailure("on_start", host) == "on_start failed: moonwire/log.lua:7: boom")
        #expect(ConsoleLine.handlerFailure("on_start", LuaError(message: "boom")) == "on_start failed: boom")
    }

    @Test("a message of several lines shows its first, marked as continued")
    func severalLines() {
        let error = LuaError(message: "momentum.lua:4: first\nsecond\nthird", traceback: Self.traceback)
        #expect(ConsoleLine.handlerFailure("on_bar", error) == "on_bar failed: momentum.lua:4: first …")
    }

    @Test("text that only looks like a place is not taken for one")
    func notPlaces() {
        #expect(ConsoleLine.startsWithPosition("momentum.lua:4: x"))
        #expect(!ConsoleLine.startsWithPosition("orders.buy: quantity must be whole"))
        #expect(!ConsoleLine.startsWithPosition("[string \"x\"]:1: y"))
        #expect(!ConsoleLine.startsWithPosition("momentum.lua:4 no colon after"))
        #expect(ConsoleLine.firstLuaPosition(in: "stack traceback:\n\t[C]: in ?") == nil)
    }
}
