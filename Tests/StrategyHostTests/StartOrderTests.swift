import Foundation
import Testing
@testable import StrategyHost
@testable import TradingState

/// on_start is the first handler a strategy runs: what reaches it between its launch and
/// its start (an application's event, a fill) waits behind on_start.
@Suite("on_start first", .serialized, .timeLimit(.minutes(1)))
struct StartOrderTests {
    @Test("an event posted between launch and start is handled after on_start")
    func eventBeforeStartWaits() async throws {
        let rig = try await Rig.start("function on_start() end")
        let file = rig.folder.appendingPathComponent("second.lua")
        try """
            seen = {}
            function on_start() seen[#seen + 1] = "start" end
            function on_signal() seen[#seen + 1] = "signal"; print("seen " .. table.concat(seen, ",")) end
            """.write(to: file, atomically: true, encoding: .utf8)
        let second = try await rig.runner.launch(path: file.path, config: HostConfig())
        second.post(.custom(handler: "on_signal", values: []))
        second.start(positions: await rig.runner.startingPositions(strategy: second.name), orders: await rig.runner.startingOrders(strategy: second.name))
        try await eventually("on_signal ran") { await second.lines().contains { $0.hasPrefix("seen ") } }
        let lines = await second.lines()
        #expect(lines.contains("seen start,signal"), "\(lines)")
        _ = await rig.runner.stop(strategy: second.name)
        await rig.stop()
    }
}
