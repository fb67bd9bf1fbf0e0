import Foundation
import TestSupport
import GRDB
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
@testable import PaperGateway
@testable import StrategyHost
@testable import TWSClient
@testable import TradingState

/// One attack of `Tests/Hostile`: its file and what its header says must happen.
struct HostileAttack: Sendable, CustomTestStringConvertible {
    let file: URL
    /// Text that must appear in what the host reported (log lines, journal, supervision).
    let expects: [String]
    /// The exit status of `moonwire run` (1 when the file cannot even load).
    let exit: Int
    /// Needs `testing.block_in_c` (a C function no hook can stop).
    let needsTestAPI: Bool
    /// The handler budget the attack runs under, when not the default (memory attacks get
    /// room to reach the cap on a loaded machine).
    let budgetMs: Double?

    var name: String { file.deletingPathExtension().lastPathComponent }
    var testDescription: String { name }

    static let folder = SourceTree.url("Tests/Hostile")

    /// The files named `prefix*.lua` (`numbers_` for the edge-value corpus, EdgeValueFuzzTests).
    static func all(prefix: String = "attack_") -> [HostileAttack] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let attacks = names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".lua") }.sorted().map { name in
            let file = folder.appendingPathComponent(name)
            let lines = ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            func header(_ key: String) -> [String] {
                lines.filter { $0.hasPrefix("-- \(key):") }.map { String($0.dropFirst(key.count + 4)).trimmingCharacters(in: .whitespaces) }
            }
            return HostileAttack(file: file, expects: header("expect"), exit: header("exit").first.flatMap { Int($0) } ?? 0,
                                 needsTestAPI: lines.contains("-- test-api"), budgetMs: header("budget_ms").first.flatMap { Double($0) })
        }
        // A hung attack's thread keeps spinning for a while: it goes last.
        return attacks.filter { !$0.needsTestAPI } + attacks.filter(\.needsTestAPI)
    }
}

/// Every attack of the corpus, in-process through the host API: the attack is stopped and
/// reported as its header says, a well-behaved strategy in the same runner keeps receiving
/// quotes, and stopping takes a bounded time whatever the attack is doing.
/// (`Tests/Conformance/test_hostile_strategies.py` runs the same corpus through `moonwire run`.)
@Suite("Hostile strategies: the host's guarantees hold against each attack", .serialized)
struct HostileCorpusTests {
    @Test("the corpus has at least 20 attacks, each with an expectation")
    func corpus() {
        let attacks = HostileAttack.all()
        #expect(attacks.count >= 20)
        for attack in attacks { #expect(!attack.expects.isEmpty, "\(attack.name) says nothing about what must happen") }
    }

    @Test("each attack (Tests/Hostile/attack_*.lua) is stopped and reported; the strategy beside it keeps its quotes; stopping is bounded",
          arguments: HostileAttack.all())
    func attack(_ attack: HostileAttack) async throws {
        var gatewayConfig = PaperGatewayConfig()
        gatewayConfig.port = 0
        gatewayConfig.market.tickIntervalMs = 20
        let server = try await PaperGatewayServer.start(config: gatewayConfig)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let journal = try Journal(path: folder.appendingPathComponent("journal.sqlite").path)
        let client = TWSClient(configuration: TWSClientConfiguration(host: "127.0.0.1", port: server.port, clientId: 1), idStore: journal)
        let state = try TradingState(client: client, journal: journal)
        client.start()
        try await client.waitUntilReady(timeout: 10)
        _ = await state.reconcile()
        let runner = StrategyRunner(client: client, state: state, journal: journal)
        let reports = NIOLockedValueBox<[String]>([])
        runner.onSupervision = { line in reports.withLockedValue { $0.append(line) } }
        runner.startWatchdog()
        var config = HostConfig()
        config.strategy.testAPI = attack.needsTestAPI
        if let budget = attack.budgetMs {
            config.strategy.budgetMs = budget
            config.strategy.hardLimitMs = max(config.strategy.hardLimitMs, budget * 2)
        }
        func cleanUp() async {
            await client.stop()
            try? await server.shutdown()
            try? FileManager.default.removeItem(at: folder)
        }

        let good = try await runner.launch(path: HostileAttack.folder.appendingPathComponent("well_behaved.lua").path, config: config)
        let hostile: Strategy
        do {
            hostile = try await runner.launch(path: attack.file.path, config: config)
        } catch {
            // The attack is refused while the file loads: the run never starts.
            #expect(attack.exit != 0, "\(attack.name) failed to load: \(error)")
            for text in attack.expects { #expect("\(error)".contains(text), "\(attack.name): '\(text)' not in \(error)") }
            _ = await runner.stopAll()
            await cleanUp()
            return
        }
        #expect(attack.exit == 0, "\(attack.name) loaded though its header says it must not")
        good.start(positions: await runner.startingPositions(strategy: good.name))
        hostile.start(positions: await runner.startingPositions(strategy: hostile.name))

        func reported() async -> String {
            let lines = await hostile.loop.submit { hostile.logLines }.value(within: 0.5) ?? []
            let events = (try? await journal.queue.read { db in
                try String.fetchAll(db, sql: "SELECT kind || ': ' || detail FROM strategy_events WHERE strategy = ?", arguments: [hostile.name])
            }) ?? []
            return (lines + events + reports.withLockedValue { $0 }).joined(separator: "\n")
        }
        do {
            try await eventually("\(attack.name): \(attack.expects)", timeout: 10) {
                let text = await reported()
                return attack.expects.allSatisfy { text.contains($0) }
            }
        } catch {
            Issue.record("\(error)\n--- what was reported:\n\(await reported())")
        }
        // The strategy beside it keeps receiving quotes after the attack.
        let before = await good.currentStatistics().quotesDelivered
        try await eventually("\(attack.name): quotes still reach the well-behaved strategy", timeout: 5) {
            await good.currentStatistics().quotesDelivered > before + 3
        }
        // Stopping is bounded whatever the attack is doing (at most the stop grace, in parallel).
        // Timed on the monotonic clock: the wall clock jumps when the machine is paused (a VM
        // paused for 12 s once made this 11.9 s while the test's own clock counted 10.7 s in all).
        let stopping = ContinuousClock.now
        let statistics = await runner.stopAll()
        let took = ContinuousClock.now - stopping
        #expect(took < .seconds(config.strategy.stopGraceSeconds + 1), "\(attack.name): stopping took \(took)")
        #expect(statistics[good.name]?.hung == false)
        // What the host copied or queued for the attack stayed bounded (the copies of shared
        // references alone once took 3 GB).
        #expect(residentBytes() < 1 << 30, "\(attack.name): the process holds \(residentBytes() >> 20) MiB")
        await cleanUp()
    }
}

/// The process's resident memory, from /proc/self/statm (0 when it cannot be read).
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// What a strategy costs the host stays bounded however it misbehaves: a hung strategy's
/// thread is taken back when its handler returns and never multiplied by reloads; timers'
/// firings and the inbox do not grow without bound.
@Suite("Hostile strategies: threads taken back, timers and inboxes bounded", .serialized)
struct HostileBoundsTests {
    /// table.remove over a length of math.maxinteger, every 50 ms (again after each reload).
    static let lengthLoop = """
        local function attack() table.remove(setmetatable({}, { __len = function() return math.maxinteger end }), 1) end
        function on_start() timer.every(0.05, attack) end
        function on_reload() timer.every(0.05, attack) end
        """

    @Test("a strategy stuck in table.remove (a __len of 2^63), reloaded 3 times: stopped by its budget each time, no thread added or left spinning")
    func lengthLoopReloaded() async throws {
        let rig = try await Rig.start("function on_start() end")
        rig.runner.startWatchdog()
        var config = HostConfig()
        config.strategy.hardLimitMs = 300
        config.strategy.maxConsecutiveErrors = 1_000
        let name = "len_remove"
        _ = try await rig.launch(Self.lengthLoop, named: name, config: config)
        func current() -> Strategy? { rig.runner.strategy(named: name) }
        for round in 1...3 {
            // The attack ran (and was stopped, or not) since the last reload.
            try await eventually("round \(round): the attack ran", timeout: 10) {
                guard let strategy = current() else { return false }
                if strategy.hungReason != nil { return true }
                return await strategy.currentStatistics().handlerFailures >= 2 * round
            }
            _ = await rig.runner.reload(strategy: name)
        }
        try await eventually("the reloaded attack ran", timeout: 10) { (await current()?.currentStatistics().handlerFailures ?? 0) >= 8 }
        #expect(current()?.hungReason == nil, "\(current()?.hungReason ?? "")")
        let threads = rig.runner.strategyThreads
        #expect(threads.alive == 1 && threads.stuck == 0, "\(threads)")
        let errors = (try? await rig.journal.queue.read { db in
            try String.fetchAll(db, sql: "SELECT detail FROM strategy_events WHERE strategy = ? AND kind = 'error'", arguments: [name])
        }) ?? []
        #expect(errors.contains { $0.contains("time budget exceeded") }, "\(errors.prefix(3))")
        _ = await rig.runner.stopAll()
        #expect(rig.runner.strategyThreads.alive == 0)
        await rig.stop()
    }

    @Test("a strategy stuck in C, reloaded 3 times: one stuck thread, not four; it starts afresh (once) when the C function returns")
    func stuckInCReloaded() async throws {
        let rig = try await Rig.start("function on_start() end")
        let reports = NIOLockedValueBox<[String]>([])
        rig.runner.onSupervision = { line in reports.withLockedValue { $0.append(line) } }
        rig.runner.startWatchdog()
        var config = HostConfig()
        config.strategy.testAPI = true
        config.strategy.hardLimitMs = 300
        let name = "stuck_in_c"
        let stuck = try await rig.launch("function on_start() testing.block_in_c(2.5) end", named: name, config: config)
        try await eventually("declared hung", timeout: 10) { stuck.hungReason != nil }
        for _ in 1...3 {
            let outcome = await rig.runner.reload(strategy: name)
            #expect(outcome?.succeeded == false)
            #expect(outcome?.error?.contains("still stuck") == true, "\(outcome?.error ?? "no outcome")")
            #expect(rig.runner.strategy(named: name) === stuck)
            let threads = rig.runner.strategyThreads
            #expect(threads.alive == 1 && threads.stuck == 1, "\(threads)")
        }
        // Fixed meanwhile: the fresh state runs the file as it is when the old one returns.
        try "function on_start() print('fresh start') end".write(to: rig.folder.appendingPathComponent(name + ".lua"), atomically: true,
                                                                 encoding: .utf8)
        try await eventually("a fresh state once the C function returned", timeout: 15) {
            guard let fresh = rig.runner.strategy(named: name), fresh !== stuck else { return false }
            return await fresh.lines().contains("fresh start")
        }
        try await eventually("the stuck state's thread is taken back", timeout: 5) {
            let threads = rig.runner.strategyThreads
            return threads.alive == 1 && threads.stuck == 0
        }
        #expect(reports.withLockedValue { $0 }.filter { $0.contains("started afresh") }.count == 1)
        _ = await rig.runner.stopAll()
        await rig.stop()
    }

    @Test("quotes posted while a strategy is busy wait as one per symbol; the ticks and the count of coalesced quotes are kept")
    func quotesCoalesceInTheInbox() async throws {
        let rig = try await Rig.start("""
            function on_custom() local t = now() while now() - t < 0.5 do end end
            function on_quote(q) seen = (seen or 0) + 1 print("quote " .. q.symbol .. " " .. seen) end
            """, host: { $0.strategy.budgetMs = 2000; $0.strategy.hardLimitMs = 10_000 })
        rig.strategy.post(.custom(handler: "on_custom", values: []))
        try await eventually("the strategy is busy") { rig.strategy.lua.runningFor != nil }
        for index in 0..<30_000 {
            var quote = MarketQuote(symbol: ["X1", "X2", "X3"][index % 3])
            quote.last = Double(index)
            quote.ticks = 1
            rig.strategy.post(quote: quote)
        }
        let waiting = rig.strategy.inbox.withLockedValue { $0.items.count }
        #expect(waiting <= 3, "\(waiting) items wait in the inbox")
        try await eventually("the latest quotes are delivered") {
            let lines = await rig.lines()
            return ["X1", "X2", "X3"].allSatisfy { symbol in lines.contains { $0.hasPrefix("quote \(symbol)") } }
        }
        let statistics = await rig.statistics()
        #expect(statistics.quotesCoalesced >= 29_997 - 3 * 2, "\(statistics.quotesCoalesced)")
        #expect(statistics.ticksDelivered >= 30_000, "\(statistics.ticksDelivered)")
        await rig.stop()
    }

    @Test("events a strategy cannot keep up with are bounded: past the limit it is declared overloaded and cut off, memory stays bounded")
    func inboxOverflow() async throws {
        let rig = try await Rig.start("function on_error(e) local t = now() while now() - t < 0.01 do end end",
                                      host: { $0.strategy.budgetMs = 1000; $0.strategy.hardLimitMs = 10_000 })
        let reports = NIOLockedValueBox<[String]>([])
        rig.runner.onSupervision = { line in reports.withLockedValue { $0.append(line) } }
        rig.runner.startWatchdog()
        // The loop takes the whole inbox when its queue is empty: twice the limit overflows
        // the inbox whenever the loop takes it.
        for index in 0...(2 * Strategy.maximumWaitingEvents + 10) {
            rig.strategy.post(.error(code: "flood", message: "error \(index)", orderId: nil))
        }
        #expect(rig.strategy.hungReason?.contains("overloaded: more than \(Strategy.maximumWaitingEvents) events waiting") == true,
                "\(rig.strategy.hungReason ?? "not declared")")
        #expect(rig.strategy.inbox.withLockedValue { $0.items.count } <= Strategy.maximumWaitingEvents)
        try await eventually("cut off and reported", timeout: 5) { reports.withLockedValue { $0 }.contains { $0.contains("overloaded") } }
        await rig.stop()
    }

    @Test("1,000 one-millisecond timers: each has at most one firing waiting, so the queue stays bounded")
    func timerFiringsBounded() async throws {
        let rig = try await Rig.start("function on_start() for i = 1, 1000 do timer.every(0.001, function() n = (n or 0) + 1 end) end end")
        // Firings fall due far faster than the loop handles them (a thousand a millisecond).
        var most = 0
        try await eventually("20,000 firings handled", timeout: 60) {
            let (delivered, waiting) = try await rig.strategy.loop.submit { (rig.strategy.statistics.eventsDelivered, rig.strategy.queue.count) }.get()
            most = max(most, waiting)
            return delivered > 20_000
        }
        #expect(most <= Strategy.maximumTimers + 10, "\(most) events queued")
        await rig.stop()
    }
}
