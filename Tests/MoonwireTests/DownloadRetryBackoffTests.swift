import Foundation
import MarketHistory
import NIOConcurrencyHelpers
import Testing
import TWSClient
import TWSProtocol
@testable import PaperGateway

/// A history download asks a window again when TWS lets it down (a timeout here), waiting
/// longer each time: the retry delay, then twice it, then four times; after the last retry the
/// window is reported failed (asked again by the next download), the download goes on.
@Suite("History download: retries back off, each wait twice the one before")
struct DownloadRetryBackoffTests {
    @Test("a window TWS never answers: asked again after 0.05, 0.1 and 0.2 s, each said, then reported failed")
    func backoff() async throws {
        var gateway = PaperGatewayConfig()
        gateway.port = 0
        gateway.market.tickIntervalMs = 50
        let server = try await PaperGatewayServer.start(config: gateway)
        var configuration = TWSClientConfiguration(host: "127.0.0.1", port: server.port, clientId: 1)
        configuration.historicalTimeout = 0.5
        configuration.requestTimeout = 0.5
        let client = TWSClient(configuration: configuration)
        client.start()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-backoff-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            try await client.waitUntilReady(timeout: 10)
            // From now on the gateway holds every request unanswered: each attempt times out.
            let held = try await server.withEngine { $0.control("hold 600 all") }
            #expect(held.hasPrefix("ok hold"), "\(held)")
            let store = try SQLiteBarStore(path: folder.appendingPathComponent("bars.sqlite").path)
            let pauses = NIOLockedValueBox<[Double]>([])
            let notices = NIOLockedValueBox<[String]>([])
            var downloader = HistoryDownloader(client: client, store: store)
            downloader.retries = 3
            downloader.retryDelay = 0.05
            downloader.pause = { seconds in
                pauses.withLockedValue { $0.append(seconds) }
                try await Task.sleep(for: .seconds(seconds))
            }
            downloader.notice = { line in notices.withLockedValue { $0.append(line) } }
            // One window of hourly bars (2024-01-02, a Tuesday).
            let report = try await downloader.download(BarSeries(instrument: "AAPL", barSize: "1 hour", what: "TRADES"),
                                                       contract: Contract(symbol: "AAPL"), span: TimeSpan(1_704_153_600, 1_704_240_000))
            #expect(pauses.withLockedValue { $0 } == [0.05, 0.1, 0.2], "each wait twice the one before")
            let said = notices.withLockedValue { $0 }
            #expect(said.count == 3, "\(said)")
            for (index, line) in said.enumerated() {
                #expect(line.contains("asking again in \(["0.05", "0.1", "0.2"][index]) s (retry \(index + 1) of 3)"), "\(line)")
            }
            #expect(report.failed.count == 1 && report.bars == 0, "\(report.failed)")
            #expect(try await store.covered(BarSeries(instrument: "AAPL", barSize: "1 hour", what: "TRADES")).isEmpty,
                    "a failed window is not recorded as covered: the next download asks for it")
        } catch {
            await client.stop()
            try? await server.shutdown()
            throw error
        }
        await client.stop()
        try await server.shutdown()
    }
}
