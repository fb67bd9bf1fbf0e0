import Foundation
import PaperGateway
import Testing
import TWSProtocol

@testable import TWSClient

/// IB's real historical-data rules: the small-bar pacing (60 in 10 minutes, 6 per contract in
/// 2 s, 15 s between identical requests; BID_ASK counts twice) only for bars of 30 seconds or
/// less; larger bars several in flight, never more than 50 open, backing off on pacing errors.
@Suite("Pacing: historical data under IB's real rules")
struct PacingHistoryTests {
    static func gatewayConfig(_ change: (inout PaperGatewayConfig) -> Void = { _ in }) -> PaperGatewayConfig {
        var config = PaperGatewayConfig()
        config.port = 0
        config.market.tickIntervalMs = 50
        change(&config)
        return config
    }

    static func withClient(_ gateway: PaperGatewayConfig, _ change: (inout TWSClientConfiguration) -> Void = { _ in },
                           _ body: (TWSClient, Collector<Int>) async throws -> Void) async throws
    {
        let server = try await PaperGatewayServer.start(config: gateway)
        var config = TWSClientConfiguration(host: "127.0.0.1", port: server.port, clientId: 1)
        config.requestTimeout = 60
        change(&config)
        let client = TWSClient(configuration: config)
        let violations = Collector<Int>()
        client.observe { if case let .error(_, code, _, _) = $0, code == 162 || code == 366 || code == 420 { violations.add(code) } }
        client.start()
        do {
            try await client.waitUntilReady(timeout: 10)
            try await body(client, violations)
        } catch {
            await client.stop()
            try? await server.shutdown()
            throw error
        }
        await client.stop()
        try await server.shutdown()
    }

    /// `yyyyMMdd-HH:mm:ss`, UTC, `days` after 2024-01-01.
    static func end(days: Int) -> String {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!,
                                                                from: Date(timeIntervalSince1970: 1_704_067_200 + Double(days) * 86_400))
        return String(format: "%04d%02d%02d-00:00:00", c.year!, c.month!, c.day!)
    }

    @Test("a 1-minute download across many requests keeps several in flight and meets no 162")
    func largeBarsInFlight() async throws {
        // The gateway's pacing on, with IB's real window: the small-bar rules would hold these
        // 40 requests for one contract to 5 every 2 s, and the 61st... for 10 minutes.
        try await Self.withClient(Self.gatewayConfig()) { client, violations in
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for day in 1...40 {
                    group.addTask {
                        try await client.historicalBars(Contract(symbol: "AAPL"), end: Self.end(days: day), duration: "1 D", barSize: "1 min").count
                    }
                }
                var counts: [Int] = []
                for try await count in group { counts.append(count) }
                return counts
            }
            // "1 D" is a trading day of 04:00-20:00 New York (to 19:00 when the day ends at
            // midnight UTC), as the paper history keeps trading hours.
            #expect(counts.count == 40 && counts.allSatisfy { (900...960).contains($0) }, "\(counts)")
            #expect(violations.all.isEmpty, "no pacing error: 1-minute bars are not under the small-bar rules")
            let peak = try await client.historyRequestsInFlightPeak()
            // More than the 5 per contract the small-bar rules would let go at once, and no
            // more than the bound.
            #expect(peak > 5, "peak in flight \(peak)")
            #expect(peak <= TWSClient.largeBarRequestsInFlight)
        }
    }

    @Test("30-second bars still go by the small-bar rules: a burst past 60 in the window waits, no 162")
    func smallBarsPaced() async throws {
        // A 4-second window on both sides (IB's is 10 minutes): the gateway answers 162 to the
        // 61st small-bar request in the window, so a client that sent it would see one.
        let gateway = Self.gatewayConfig { $0.pacing.historicalWindowSeconds = 4 }
        try await Self.withClient(gateway, { $0.historicalPacingWindow = 4 }) { client, violations in
            let symbols = ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "TSLA", "META", "SPY", "QQQ", "IWM"]
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<70 {
                    group.addTask {
                        // Ending inside a session (2024-01-03 11:00 New York): history keeps trading hours.
                        try await client.historicalBars(Contract(symbol: symbols[index % 10]), end: "20240103-16:00:00",
                                                        duration: "\(600 + index * 30) S", barSize: "30 secs").count
                    }
                }
                var counts: [Int] = []
                for try await count in group { counts.append(count) }
                return counts
            }
            #expect(counts.count == 70 && counts.allSatisfy { $0 >= 20 })
            #expect(violations.all.isEmpty, "the client kept the small-bar rules: \(violations.all)")
        }
    }

    @Test("the rules as the gateway applies them: small bars paced, larger not, BID_ASK counted twice")
    func rules() {
        // The gateway's identity: contract key, end, duration, bar size, RTH, keepUpToDate.
        func gateway(_ bar: String, _ end: String, what: String = "TRADES", symbol: String = "AAPL") -> (String, String) {
            let key = "\(symbol):SMART:\(what)"
            return ("\(key):\(end):1800 S:\(bar):false:false", key)
        }
        #expect(HistoricalPacing.barSeconds(inIdentity: gateway("30 secs", "20240102-14:30:00").0) == 30)
        #expect(HistoricalPacing.barSeconds(inIdentity: "0:AAPL:SMART:TRADES:20240102-14:30:00:1 D:1 min:false:retry1:1.5") == 60)

        var pacing = HistoricalPacing()
        // Identical within 15 s: refused for 30-second bars, not for 1-minute bars.
        let small = gateway("30 secs", "20240102-14:30:00"), large = gateway("1 min", "20240102-14:30:00")
        #expect(pacing.admit(identity: small.0, contractKey: small.1, now: 0) == nil)
        #expect(pacing.admit(identity: small.0, contractKey: small.1, now: 1)?.contains("identical") == true)
        #expect(pacing.admit(identity: large.0, contractKey: large.1, now: 1) == nil)
        #expect(pacing.admit(identity: large.0, contractKey: large.1, now: 1) == nil)

        // 6 per contract in 2 s: the sixth small one refused; a hundred large ones not.
        var burst = HistoricalPacing()
        for index in 0..<5 {
            let request = gateway("5 secs", "2024010\(index + 1)-10:00:00")
            #expect(burst.admit(identity: request.0, contractKey: request.1, now: 100) == nil)
        }
        let sixth = gateway("5 secs", "20240107-10:00:00")
        #expect(burst.admit(identity: sixth.0, contractKey: sixth.1, now: 100.5)?.contains("6 or more") == true)
        for index in 0..<100 {
            let request = gateway("1 min", "end\(index)")
            #expect(burst.admit(identity: request.0, contractKey: request.1, now: 100.5) == nil)
            #expect(burst.earliestAdmission(identity: request.0, contractKey: request.1, now: 100.5) == 100.5)
        }

        // 60 in the window; BID_ASK counts twice, so 30 of them fill it; large bars never count.
        var window = HistoricalPacing()
        for index in 0..<30 {
            let request = gateway("30 secs", "e\(index)", what: "BID_ASK", symbol: "S\(index)")
            #expect(window.admit(identity: request.0, contractKey: request.1, now: Double(index * 3)) == nil)
        }
        let full = gateway("30 secs", "e30", symbol: "S30")
        #expect(window.admit(identity: full.0, contractKey: full.1, now: 100)?.contains("60 requests") == true)
        #expect(window.earliestAdmission(identity: full.0, contractKey: full.1, now: 100) > 600)
        let big = gateway("1 hour", "e31", symbol: "S31")
        #expect(window.admit(identity: big.0, contractKey: big.1, now: 100) == nil)
    }

    @Test("the least time small-bar requests still take: what sending them one by one at their earliest admission gives")
    func timeLeftByPacing() {
        // `sent` requests one by one from t = 900, then `count` more from t = 1000.
        func oneByOne(_ count: Int, after sent: Int) -> (pacing: HistoricalPacing, last: Double) {
            var pacing = HistoricalPacing()
            var now = 900.0
            for index in 0..<(sent + count) {
                let identity = "AAPL:SMART:TRADES:e\(index):3600 S:5 secs:false:false"
                if index == sent { now = max(now, 1000) }
                now = pacing.earliestAdmission(identity: identity, contractKey: "AAPL:SMART:TRADES", now: now)
                #expect(pacing.admit(identity: identity, contractKey: "AAPL:SMART:TRADES", now: now) == nil)
            }
            return (pacing, now)
        }
        // 40 sent in the last 100 s: 130 more need three windows' worth.
        let (sent, _) = oneByOne(0, after: 40)
        let (_, last) = oneByOne(130, after: 40)
        let bound = sent.secondsUntilAdmitted(further: 130, now: 1000)
        #expect(abs((1000 + bound) - last) < 0.01, "\(bound) s vs one by one \(last - 1000) s")
        #expect(bound > 1100, "130 after 40 in the window: two more windows of 10 minutes")
        // Far more than it simulates: bounded by whole windows, within a window's spread.
        let (_, far) = oneByOne(500, after: 0)
        let estimate = HistoricalPacing().secondsUntilAdmitted(further: 500, now: 1000)
        #expect(estimate >= far - 1000 && estimate < far - 1000 + 30, "\(estimate) s vs one by one \(far - 1000) s")
        #expect(HistoricalPacing().secondsUntilAdmitted(further: 0, now: 1000) == 0)
        #expect(HistoricalPacing().secondsUntilAdmitted(further: -5, now: 1000) == 0)
        #expect(HistoricalPacing().secondsUntilAdmitted(further: Int.max, now: 1000).isFinite)
    }

    @Test("larger bars: a bounded number in flight, halved by a pacing error, growing back one an answer")
    func backoff() async throws {
        let client = TWSClient(configuration: TWSClientConfiguration())
        var scheduler = HistoryScheduler(window: 600, largeBarConcurrency: 8)
        var started = 0
        for index in 0..<30 {
            scheduler.enqueue(HistoryScheduler.Job(identity: "job\(index):1 min", contractKey: "AAPL", barSeconds: 60, owner: ObjectIdentifier(Int.self)) { started += 1 })
        }
        scheduler.resume(client: client)
        #expect(started == 8)
        // A pacing error: the limit halves to 4; with 7 still in flight nothing more goes.
        scheduler.finished(small: false, paced: true)
        scheduler.resume(client: client)
        #expect(started == 8)
        // Answers: in flight 6, 5, 4, 3 while the limit grows 5, 6, 7, 8: the third and fourth answers let jobs go.
        for _ in 0..<4 { scheduler.finished(small: false, paced: false) }
        scheduler.resume(client: client)
        #expect(started == 8 + 5)
        #expect(scheduler.peakInFlight == 8)
        #expect(HistoryScheduler(window: 600, largeBarConcurrency: 500).largeBarConcurrency == HistoricalPacing.maximumOpen)
        #expect(HistoryScheduler.isPacing(.ib(code: 162, message: "Historical data request pacing violation", advancedOrderRejectJson: "")))
        #expect(!HistoryScheduler.isPacing(.ib(code: 162, message: "HMDS query returned no data", advancedOrderRejectJson: "")))
        #expect(HistoryScheduler.isPacing(.ib(code: 366, message: "No historical data query found for ticker id:5", advancedOrderRejectJson: "")))
        #expect(HistoryScheduler.isPacing(.ib(code: 420, message: "Invalid Real-time Query: pacing violation", advancedOrderRejectJson: "")))
        await client.stop()
    }
}
