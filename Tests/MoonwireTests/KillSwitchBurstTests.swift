import Foundation
import Testing
@testable import Moonwire
@testable import PaperGateway
@testable import StrategyHost
import TWSProtocol

/// The kill switch under a burst: a strategy fires 600 limit orders at once; the paper
/// gateway holds what reaches it (a busy TWS that acknowledges late); `halt` comes in the
/// middle. Checked on the gateway's side: nothing leaves after the halt, every order of ours
/// that reached it is cancelled, including those it acknowledged only after the halt began.
@Suite("Kill switch: a burst of 600 orders, halt in the middle", .serialized)
struct KillSwitchBurstTests {
    static let burst = """
        function on_start() market.subscribe("AAPL") end
        function on_quote(q) if q.bid and not ready then ready = true; print("ready") end end
        placed, calls = 0, 0
        -- 25 a call, 24 calls in a row: one burst, within a handler's budget on a busy machine.
        function on_burst()
          for i = 1, 25 do
            if orders.buy("AAPL", 1, { limit = 1.00 }) then placed = placed + 1 end
          end
          calls = calls + 1
          print("calls " .. calls .. " placed " .. placed)
        end
        """

    static func start() async throws -> Embedded {
        try await Embedded.start { configuration in
            configuration.host.risk.maxOpenOrders = 1_000
            configuration.host.risk.maxOrdersPerMinute = 1_000
            configuration.host.risk.maxPosition = 100_000
            configuration.host.accountRisk.maxOpenOrders = 1_000
            configuration.host.accountRisk.maxOrdersPerMinute = 1_000
            configuration.host.accountRisk.maxPosition = 100_000
            // Orders by the hundred take longer than the default budget in a debug build on a busy machine.
            configuration.host.strategy.budgetMs = 5_000
            configuration.host.strategy.hardLimitMs = 20_000
            // The client keeps to 45 messages a second as it sends; on a busy machine they can
            // reach the gateway bunched, past its 100 a second (dropped): not what these test.
            configuration.paper.pacing.messageRate = false
            // Quotes every 100 ms, not 20: in a debug build a client busy with quotes reads the
            // gateway's answers late, and the gateway then reads its orders late.
            configuration.paper.market.tickIntervalMs = 100
        }
    }

    /// What the gateway has of client `clientId`: orders received, those working, and the
    /// requests it holds (orders, cancels).
    struct GatewaySide: Sendable {
        var received = 0
        var working: [Int] = []
        var heldOrders = 0
        var heldCancels = 0
    }

    static func gatewaySide(_ gateway: PaperGatewayServer, clientId: Int) async throws -> GatewaySide {
        try await gateway.withEngine { engine in
            var side = GatewaySide()
            let ours = engine.orders.filter { $0.key.clientId == clientId }
            side.received = ours.count
            side.working = ours.filter { $0.value.isWorking }.map(\.key.orderId).sorted()
            for (_, request) in engine.faults.held {
                if case .placeOrder = request { side.heldOrders += 1 }
                if case .cancelOrder = request { side.heldCancels += 1 }
            }
            return side
        }
    }

    @Test("halt while the gateway holds part of a 600-order burst: nothing leaves after it, nothing of ours works")
    func burstThenHalt() async throws {
        let embedded = try await Self.start()
        do { try await burstThenHalt(embedded) } catch {
            _ = await embedded.stop()
            throw error
        }
        _ = await embedded.stop()
    }

    func burstThenHalt(_ embedded: Embedded) async throws {
        let runtime = embedded.runtime
        let gateway = try #require(runtime.paperGateway)
        let clientId = runtime.configuration.connection.clientId
        try await runtime.addStrategy(file: try embedded.write("burst.lua", Self.burst))
        try await embedded.waitForLines("burst") { $0.contains("ready") }

        // A busy order desk: the orders that reach it wait (in order) until the test lets them go.
        _ = try await gateway.withEngine { $0.control("hold 120") }
        for _ in 1...24 { try runtime.post("on_burst") }
        // The client sends at its rate (45 a second): halt once the gateway holds 100. (What
        // the strategy tries after the halt is refused at the call: it gets no id.)
        try await eventually("the gateway holds 100 orders", timeout: 60) { try await Self.gatewaySide(gateway, clientId: clientId).heldOrders >= 100 }

        let halting = Task { await runtime.halt(everything: false, within: 20) }
        // The halt's cancels reach the gateway behind the orders it holds; then it lets all go.
        // (Without a gate at the socket they come only after the queued orders: then the hold
        // ends by itself, and the check below tells what leaked.)
        let cancelsArrived = try await waitFor(seconds: 15) { try await Self.gatewaySide(gateway, clientId: clientId).heldCancels > 0 }
        _ = try await gateway.withEngine { $0.control("hold 0") }
        let report = await halting.value
        let lines = try await embedded.waitForLines("burst") { $0.contains { $0.hasPrefix("calls 24 ") } }
        let placed = try #require(lines.first { $0.hasPrefix("calls 24 ") }.flatMap { Int($0.split(separator: " ").last ?? "") })

        let side = try await Self.gatewaySide(gateway, clientId: clientId)
        #expect(cancelsArrived, "the halt's cancels reach the gateway while it still holds the orders")
        #expect(side.working.count == 0, "orders of ours still working at the gateway after halt")
        #expect(report.left.count == 0, "halt says \(report.text.prefix(2000))")
        #expect(report.complete)
        #expect(!report.notSent.isEmpty, "the queued orders were stopped before they left")
        #expect(side.received + report.notSent.count == placed,
                "the gateway received exactly the orders sent before the gate closed: \(side.received) + \(report.notSent.count) not sent of \(placed)")
        #expect(report.cancelled.count == side.received, "every order that reached the gateway is cancelled: \(report.text)")
        #expect(report.text.hasPrefix("halted:"), "\(report.text)")

        // After the halt, an order the strategy tries is refused at the call.
        try await runtime.addStrategy(file: try embedded.write("late.lua", """
            function on_start() local id, err = orders.buy("AAPL", 1, { limit = 1.00 }); print(tostring(id) .. " " .. err.code) end
            """))
        try await embedded.waitForLines("late") { $0.contains("nil halted") }
        #expect(try await Self.gatewaySide(gateway, clientId: clientId).received == side.received)
    }
}

extension KillSwitchBurstTests {
    @Test("an order waiting for a price to value it by when the halt comes never leaves")
    func orderWaitingForValuation() async throws {
        let embedded = try await Self.start()
        do { try await orderWaitingForValuation(embedded) } catch {
            _ = await embedded.stop()
            throw error
        }
        _ = await embedded.stop()
    }

    func orderWaitingForValuation(_ embedded: Embedded) async throws {
        let runtime = embedded.runtime
        let gateway = try #require(runtime.paperGateway)
        try await runtime.addStrategy(file: try embedded.write("wait.lua", """
            function on_go()
              local id, err = orders.buy("MSFT", 1)   -- a market order and no quote: it waits for a snapshot
              print("result " .. tostring(id) .. " " .. tostring(err and err.code))
            end
            """))
        // Every request waits, the snapshot too (briefly: the heartbeats wait as well).
        _ = try await gateway.withEngine { $0.control("hold 8 all") }
        try runtime.post("on_go")
        try await eventually("the order's valuation to wait at the gateway") {
            try await gateway.withEngine { engine in
                engine.faults.held.contains { if case .reqMktData = $0.request { true } else if case .reqContractDetails = $0.request { true } else { false } }
            }
        }
        let halting = Task { await runtime.halt(everything: false, within: 20) }
        try await eventually("the order gate to close") { runtime.orderFlowClosed != nil }
        _ = try await gateway.withEngine { $0.control("hold 0") }
        let report = await halting.value
        try await embedded.waitForLines("wait") { $0.contains { $0.hasPrefix("result ") } }
        #expect(await embedded.lines("wait").contains("result nil halted"))
        #expect(report.complete, "\(report.text)")
        #expect(try await gateway.withEngine { $0.orders.count } == 0, "no order reached the gateway")
    }
}

extension KillSwitchBurstTests {
    @Test("200 working orders: the halt waits for cancels that take longer to leave than its window, and all go")
    func manyWorkingOrders() async throws {
        let embedded = try await Self.start()
        do { try await manyWorkingOrders(embedded) } catch {
            _ = await embedded.stop()
            throw error
        }
        _ = await embedded.stop()
    }

    func manyWorkingOrders(_ embedded: Embedded) async throws {
        let runtime = embedded.runtime
        let gateway = try #require(runtime.paperGateway)
        let clientId = runtime.configuration.connection.clientId
        try await runtime.addStrategy(file: try embedded.write("burst.lua", Self.burst))
        try await embedded.waitForLines("burst") { $0.contains("ready") }
        for _ in 1...8 { try runtime.post("on_burst") }
        try await eventually("200 orders working at the gateway", timeout: 60) {
            try await Self.gatewaySide(gateway, clientId: clientId).working.count == 200
        }
        // 200 cancels at 45 a second take 4.4 s: longer than the 2 s asked for.
        let report = await runtime.halt(everything: false, within: 2)
        #expect(report.complete, "\(report.text.prefix(2000))")
        #expect(report.cancelled.count == 200)
        #expect(try await Self.gatewaySide(gateway, clientId: clientId).working.count == 0)
    }
}

/// Waits (polling) up to `seconds` for `condition`; whether it came.
private func waitFor(seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while try await !condition() {
        guard Date() < deadline else { return false }
        try await Task.sleep(for: .milliseconds(25))
    }
    return true
}

private func eventually(_ what: String, timeout: Double = 30, _ condition: () async throws -> Bool) async throws {
    guard try await waitFor(seconds: timeout, condition) else {
        Issue.record("timed out waiting for \(what)")
        throw CancellationError()
    }
}

