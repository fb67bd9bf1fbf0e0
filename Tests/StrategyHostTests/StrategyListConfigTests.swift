import Foundation
import Testing
@testable import StrategyHost

@Suite("The config's strategies: list")
struct StrategyListConfigTests {
    @Test("each entry: file, name, params, risk over risk:; unknown keys and bad shapes are named")
    func parse() throws {
        let config = try HostConfig.load(yaml: """
            risk:
              max_position: 300
            strategies:
              - file: a.lua
              - file: a.lua
                name: a_fast
                params: { fast: 1 }
                risk: { max_order_quantity: 5 }
            """, source: "c.yaml")
        #expect(config.strategies.count == 2)
        #expect(config.strategies[0].name == nil && config.strategies[0].risk == nil)
        #expect(config.strategies[1].name == "a_fast" && config.strategies[1].params == ["fast": "1"])
        #expect(config.strategies[1].risk?.maxOrderQuantity == 5 && config.strategies[1].risk?.maxPosition == 300, "over risk:")
        func message(_ yaml: String) -> String { do { _ = try HostConfig.load(yaml: yaml, source: "c.yaml"); return "" } catch { return "\(error)" } }
        #expect(message("strategies:\n  - name: x\n").contains("strategies[0].file is required"))
        #expect(message("strategies:\n  - file: a.lua\n    speed: 3\n").contains("strategies[0].speed is not a setting"))
        #expect(message("strategies:\n  - file: a.lua\n    risk: { max_positon: 3 }\n").contains("strategies[0].risk.max_positon is not a setting"))
    }
}
