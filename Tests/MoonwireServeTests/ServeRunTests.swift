import Foundation
import Logging
import Testing
import ServiceLifecycle
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import Moonwire
@testable import MoonwireServe
@testable import PaperGateway

/// The HTTP face on a real runtime (its own paper gateway, journal and folder) and a real
/// socket: reads, a refused and an accepted write, metrics under concurrent requests, and the
/// group's shutdown order (the face first, then the runtime, whose summary comes back).
@Suite("moonwire serve: a run through its HTTP face", .timeLimit(.minutes(2)))
struct ServeRunTests {
    static let token = "serve-run-tests-token-0123"
    static let strategy = """
        local placed = false
        function on_start() market.subscribe("AAPL") end
        function on_quote(q)
          if placed then return end
          placed = true
          orders.buy("AAPL", 10)
          resting = orders.buy("AAPL", 5, { limit = 1.00 })
          log.info("resting " .. tostring(resting))
        end
        """

    struct Served {
        let runtime: MoonwireRuntime
        let service: RuntimeService
        let group: ServiceGroup
        let running: Task<Void, any Error>
        let base: String
        let folder: URL
    }

    static func serve() async throws -> Served {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var configuration = MoonwireConfiguration()
        configuration.paper.market.tickIntervalMs = 20
        configuration.journalPath = folder.appendingPathComponent("journal.sqlite").path
        configuration.controlChannel = false
        configuration.watchFiles = false
        let runtime = try await MoonwireRuntime.start(configuration)
        var settings = ServeSettings(host: "127.0.0.1", port: 0, token: token, tokenGenerated: false)
        settings.strategyFolders = [folder.resolvingSymlinksInPath().path]
        var logger = Logger(label: "serve-test")
        logger.logLevel = .warning
        let face = HTTPFace(runtime: runtime, settings: settings, logTail: LogTail(), logger: logger)
        let service = RuntimeService(runtime: runtime)
        let group = ServiceGroup(configuration: .init(services: [service, face], gracefulShutdownSignals: [], logger: logger))
        let running = Task { try await group.run() }
        let port = try #require(await face.listeningPort(), "the HTTP face did not listen")
        return Served(runtime: runtime, service: service, group: group, running: running, base: "http://127.0.0.1:\(port)", folder: folder)
    }

    static func request(_ served: Served, _ method: String, _ path: String, token: String? = nil, body: String? = nil) async throws -> (Int, Any?) {
        var request = URLRequest(url: URL(string: served.base + path)!, timeoutInterval: 20)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body { request.httpBody = Data(body.utf8) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return (status, try? JSONSerialization.jsonObject(with: data))
    }

    /// Polls `condition` every 50 ms until it holds; fails the test after `seconds`.
    static func eventually(_ what: String, seconds: Double = 30, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("not within \(seconds) s: \(what)")
        throw CancellationError()
    }

    @Test("reads, a write refused without the token and done with it, metrics, then the face and the runtime stop in order")
    func servedRun() async throws {
        let served = try await Self.serve()
        defer { try? FileManager.default.removeItem(at: served.folder) }
        let file = served.folder.appendingPathComponent("rest.lua")
        try Self.strategy.write(to: file, atomically: true, encoding: .utf8)
        _ = try await served.runtime.addStrategy(file: file.path)

        // Both orders journaled and answered: the position of 10 and the resting one.
        var resting = 0
        try await Self.eventually("the strategy holds 10 AAPL and rests one order") {
            let (_, positions) = try await Self.request(served, "GET", "/api/positions")
            let own = ((positions as? [String: Any])?["strategies"] as? [[String: Any]]) ?? []
            let (_, orders) = try await Self.request(served, "GET", "/api/orders?open=true")
            let open = (orders as? [[String: Any]]) ?? []
            resting = (open.first?["order_id"] as? Int) ?? 0
            return own.contains { $0["symbol"] as? String == "AAPL" && $0["quantity"] as? Double == 10 } && open.count == 1
        }

        // Twenty reads at once while the run goes on (under ThreadSanitizer too).
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<20 { group.addTask { try await Self.request(served, "GET", index.isMultiple(of: 2) ? "/api/status" : "/metrics").0 } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")

        let (refused, answer) = try await Self.request(served, "POST", "/api/orders/\(resting)/cancel")
        #expect(refused == 401 && (answer as? [String: Any])?["code"] as? String == "unauthorized")
        // Nothing reached TWS: a request on the same connection, answered, comes after any
        // cancel the refused write could have sent, and the gateway still works the order.
        _ = try await served.runtime.client.currentTime()
        let gateway = try #require(served.runtime.paperGateway)
        let status = try await gateway.withEngine { $0.control("status") }
        #expect(status.contains("working=1"), "a refused write changed nothing at TWS: \(status)")
        #expect(await served.runtime.snapshot().orders.first { $0.orderId == resting }?.status == .submitted, "a refused write changed nothing")
        let (accepted, _) = try await Self.request(served, "POST", "/api/orders/\(resting)/cancel", token: Self.token)
        #expect(accepted == 202)
        try await Self.eventually("TWS cancelled the order") {
            await served.runtime.snapshot().orders.first { $0.orderId == resting }?.status == .cancelled
        }

        let (_, _) = try await Self.request(served, "GET", "/api/status")
        var request = URLRequest(url: URL(string: served.base + "/metrics")!)
        request.timeoutInterval = 20
        let metrics = String(decoding: try await URLSession.shared.data(for: request).0, as: UTF8.self)
        #expect(metrics.contains(#"moonwire_orders_total{strategy="rest",result="placed"} 2"#), "\(metrics.prefix(3000))")
        #expect(metrics.contains(#"moonwire_orders_total{strategy="rest",result="cancelled"} 1"#))
        #expect(metrics.contains("moonwire_connection_up 1"))
        #expect(metrics.contains(#"moonwire_handler_seconds_count{strategy="rest"}"#))

        await served.group.triggerGracefulShutdown()
        let summary = try #require(await served.service.stoppedSummary(), "the runtime's service gave no summary")
        #expect(summary.strategies.map(\.name) == ["rest"])
        try await served.running.value
        // The face stopped with it: nothing listens any more.
        await #expect(throws: (any Error).self) { _ = try await Self.request(served, "GET", "/api/status") }
    }
}
