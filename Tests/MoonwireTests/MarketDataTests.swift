import Foundation
import Testing
@testable import Moonwire
@testable import PaperGateway

/// Quote fields and market data types against a paper account without live subscriptions,
/// which answers as IB does (354 for live, 10167 and delayed ticks for delayed).
@Suite("Market data: day fields, delayed data, halts", .timeLimit(.minutes(1)))
struct MarketDataTests {
    static let printer = """
        function on_start() market.subscribe("AAPL") end
        function on_quote(q)
          if q.bid and q.open and q.close then
            log.info(string.format("quote delayed=%s open=%s high=%s low=%s close=%s halted=%s", tostring(q.delayed), tostring(q.open ~= nil),
                                   tostring(q.high >= q.low), tostring(q.low > 0), tostring(q.close > 0), tostring(q.halted)))
          end
        end
        function on_error(e) log.info("error " .. e.code .. " " .. e.message) end
        """

    @Test("auto: live is refused (354), the stream goes on with delayed data, marked delayed")
    func automaticFallsBackToDelayed() async throws {
        let embedded = try await Embedded.start { configuration in
            configuration.paper.market.liveData = false
            configuration.connection.marketData = "auto"
        }
        try await embedded.runtime.addStrategy(file: try embedded.write("watch.lua", Self.printer))
        let lines = try await embedded.waitForLines("watch") { $0.contains { $0.hasPrefix("quote") } }
        #expect(lines.first { $0.hasPrefix("quote") } == "quote delayed=true open=true high=true low=true close=true halted=nil")
        #expect(!lines.contains { $0.hasPrefix("error") }, "the fallback is no error for the strategy: \(lines)")
        _ = await embedded.stop()
    }

    @Test("live without a subscription: the strategy hears 354; delayed asks for delayed and gets it")
    func explicitTypes() async throws {
        let live = try await Embedded.start { $0.paper.market.liveData = false }
        try await live.runtime.addStrategy(file: try live.write("watch.lua", Self.printer))
        let refused = try await live.waitForLines("watch") { $0.contains { $0.hasPrefix("error") } }
        #expect(refused.contains { $0.hasPrefix("error 354 AAPL: TWS error 354: Requested market data is not subscribed") }, "\(refused)")
        _ = await live.stop()

        let delayed = try await Embedded.start { configuration in
            configuration.paper.market.liveData = false
            configuration.connection.marketData = "delayed"
        }
        try await delayed.runtime.addStrategy(file: try delayed.write("watch.lua", Self.printer))
        let lines = try await delayed.waitForLines("watch") { $0.contains { $0.hasPrefix("quote") } }
        #expect(lines.contains { $0.hasPrefix("quote delayed=true") })
        _ = await delayed.stop()
    }

    @Test("live data carries the day's open, high, low and close; a halt reaches the quote")
    func liveFieldsAndHalt() async throws {
        let embedded = try await Embedded.start()
        try await embedded.runtime.addStrategy(file: try embedded.write("watch.lua", Self.printer))
        let lines = try await embedded.waitForLines("watch") { $0.contains { $0.hasPrefix("quote") } }
        #expect(lines.first { $0.hasPrefix("quote") } == "quote delayed=nil open=true high=true low=true close=true halted=nil")
        #expect(try await embedded.runtime.paperGateway!.withEngine { $0.control("halted AAPL 1") } == "ok halted AAPL 1")
        try await embedded.waitForLines("watch") { $0.contains { $0.hasSuffix("halted=true") } }
        _ = await embedded.stop()
    }
}
