import Foundation
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

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Hostile")

    static func all() -> [HostileAttack] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let attacks = names.filter { $0.hasPrefix("attack_") && $0.hasSuffix(".lua") }.sorted().map { name in
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

    @Test("each attack is stopped and reported; the strategy beside it keeps its quotes; stopping is bounded", arguments: HostileAttack.all())
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
        let stopping = Date()
        let statistics = await runner.stopAll()
        let took = Date().timeIntervalSince(stopping)
        #expect(took < config.strategy.stopGraceSeconds + 1, "\(attack.name): stopping took \(took) s")
        #expect(statistics[good.name]?.hung == false)
        await cleanUp()
    }
}
