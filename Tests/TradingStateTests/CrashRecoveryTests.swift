import Foundation
import TestSupport
import Testing
import TWSProtocol
@testable import PaperGateway

/// SIGKILL in the middle of trading, restart against the same gateway: the journal plus
/// TWS's reports rebuild the state with no fill lost or counted twice, and no order sent twice.
@Suite("Crash recovery", .serialized)
struct CrashRecoveryTests {
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["MOONWIRE_BIN"] { return path }
        return SourceTree.url(".build/debug/moonwire").path
    }

    /// Runs the probe; calls `line` for each line it prints.
    func launch(_ arguments: [String]) throws -> (Process, Pipe) {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw TimeoutFailure(what: "the moonwire binary at \(Self.binary) (build it first, or set MOONWIRE_BIN)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, output)
    }

    @Test("SIGKILL mid-trading, restart: nothing lost, nothing doubled, nothing sent twice", .timeLimit(.minutes(3)))
    func sigkill() async throws {
        var config = PaperGatewayConfig()
        config.port = 0
        // Quotes move every 250 ms and show at most 12 lots: an order of 10,000 shares takes at
        // least 9 moves of its quote (over 2 s) to fill, so the orders placed last still work
        // when the trader is killed right after placing them.
        config.market.tickIntervalMs = 250
        let server = try await PaperGatewayServer.start(config: config)
        let journal = temporaryPath("crash")
        defer { try? FileManager.default.removeItem(atPath: journal) }
        let gateway = "127.0.0.1:\(server.port)"
        let common = ["trade-probe", "--journal", journal, "--gateway", gateway, "--client-id", "9"]

        let (trader, output) = try launch(common + ["--orders", "60", "--quantity", "10000"])
        // Kill it after some orders, while many are still filling in parts.
        var placed = 0
        var buffer = ""
        let deadline = Date().addingTimeInterval(30)
        while placed < 12 && Date() < deadline {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            buffer += String(decoding: data, as: UTF8.self)
            placed = buffer.components(separatedBy: "placed ").count - 1
        }
        #expect(placed >= 12, "the probe placed orders before it was killed")
        kill(trader.processIdentifier, SIGKILL)
        trader.waitUntilExit()
        #expect(trader.terminationReason == .uncaughtSignal)

        // The gateway keeps filling the working orders while the trader is dead: wait until none
        // of its orders works any more, so that every fill the recovery must find is made (and
        // those made after the kill are fills the trader never saw).
        func gatewayView() async throws -> (fills: Int, working: Int) {
            try await server.withEngine { engine in
                (engine.executions.filter { $0.execution.clientId == 9 }.count,
                 engine.orders.filter { $0.key.clientId == 9 && $0.value.isWorking }.count)
            }
        }
        let atKill = try await gatewayView()
        try await eventually("the dead trader's working orders filled at the gateway", timeout: 30) { try await gatewayView().working == 0 }
        // The premise: orders still worked when it was killed (2,500 shares fill in many parts).
        try #require(atKill.working > 0, "no order worked at the kill: nothing was filled in the dark")
        #expect(try await gatewayView().fills > atKill.fills, "\(atKill.working) orders worked at the kill: filled in the dark")

        let (recovery, recoveryOutput) = try launch(common + ["--orders", "0", "--settle-seconds", "20"])
        // Bounded: a recovery that hangs is killed (its output then ends and the checks fail).
        let guardTimer = DispatchWorkItem { if recovery.isRunning { kill(recovery.processIdentifier, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: guardTimer)
        defer { guardTimer.cancel() }
        // Read to the end first: a child that fills the pipe (64 KiB) never exits while
        // nobody reads it.
        let text = String(decoding: recoveryOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        recovery.waitUntilExit()
        #expect(recovery.terminationStatus == 0)
        let json = try #require(text.split(separator: "\n").last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })

        let gatewayState = try await server.withEngine { engine -> ([String], [String: Double], [String], Double) in
            let executions = engine.executions.filter { $0.execution.clientId == 9 }.map(\.execution.execId)
            var filledByRef: [String: Double] = [:]
            var refs: [String] = []
            for (key, order) in engine.orders where key.clientId == 9 {
                filledByRef[order.order.orderRef] = order.filled
                refs.append(order.order.orderRef)
            }
            let position = engine.accounts[engine.defaultAccount]?.holdings["AAPL"]?.quantity ?? 0
            return (executions, filledByRef, refs, position)
        }
        let (twsExecutions, twsFilled, twsRefs, twsPosition) = gatewayState

        let journalExecutions = (json["executions"] as! [[String: Any]]).map { $0["exec_id"] as! String }
        #expect(twsExecutions.count >= placed, "orders filled, most in several parts")
        #expect(Set(journalExecutions) == Set(twsExecutions), "every fill TWS made is in the journal")
        #expect(journalExecutions.count == Set(journalExecutions).count, "and none twice")
        #expect(Set(twsRefs).count == twsRefs.count, "no order reached TWS twice")

        let orders = json["orders"] as! [[String: Any]]
        for order in orders {
            let ref = "mw:" + (order["key"] as! String)
            let status = order["status"] as! String
            if let filled = twsFilled[ref] {
                #expect(order["filled"] as! Double == filled, "\(ref): journal and TWS agree on the filled quantity")
                #expect(status != "unknown")
            } else {
                #expect(status == "unknown", "\(ref) never reached TWS and is marked so, not resent")
            }
        }
        #expect(twsRefs.allSatisfy { ref in orders.contains { "mw:" + ($0["key"] as! String) == ref } }, "no order orphaned")
        let explained = (json["explained_positions"] as! [String: Double])["AAPL"] ?? 0
        #expect(explained == twsPosition, "the journal's executions explain TWS's position")
        let report = json["report"] as! [String: Any]
        #expect((report["unexplained"] as! [String: Any]).isEmpty)
        try await server.shutdown()
    }
}
