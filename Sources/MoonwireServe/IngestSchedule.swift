import Foundation
import MarketHistory
import Moonwire
import NIOConcurrencyHelpers
import StrategyHost
import TWSProtocol

/// Scheduled ingest's state, for `GET /api/ingest`.
final class IngestProgress: Sendable {
    let plan: HistoryIngest?
    private let state = NIOLockedValueBox<(running: Bool, started: Date?, finished: Date?, error: String?, stored: Int, rounds: Int)>((false, nil, nil, nil, 0, 0))

    init(plan: HistoryIngest?) { self.plan = plan }

    func began() { state.withLockedValue { $0.running = true; $0.started = Date() } }
    func ended(stored: Int, error: String?) {
        state.withLockedValue {
            $0.running = false
            $0.finished = Date()
            $0.stored += stored
            $0.error = error
            $0.rounds += 1
        }
    }

    var json: JSONText {
        let now = state.withLockedValue { $0 }
        return .object([
            ("enabled", .bool(plan != nil)), ("symbols", .array((plan?.symbols ?? []).map { .string($0) })),
            ("bar", .string(plan?.bar)), ("interval_seconds", .number(plan?.everySeconds)), ("running", .bool(now.running)),
            ("rounds", .int(now.rounds)), ("last_started", now.started.map { RecordJSON.time($0.timeIntervalSince1970) } ?? .null),
            ("last_finished", now.finished.map { RecordJSON.time($0.timeIntervalSince1970) } ?? .null),
            ("last_error", .string(now.error)), ("bars_stored", .int(now.stored)),
        ])
    }
}

/// Brings the bar store up to now for each instrument of `history.ingest`, every interval,
/// through the runtime's connection and the downloader's pacing. Runs until cancelled.
enum IngestSchedule {
    static func run(_ plan: HistoryIngest, model: ServeModel) async {
        guard let store = model.settings.barStore else {
            model.ingest.ended(stored: 0, error: "no bar store: give history.store in the config or --store")
            return
        }
        let downloader = HistoryDownloader(client: model.runtime.client, store: store)
        while !Task.isCancelled {
            model.ingest.began()
            var stored = 0
            var problems: [String] = []
            let now = Int64(Date().timeIntervalSince1970)
            for symbol in plan.symbols {
                guard !Task.isCancelled else { break }
                do {
                    let spec = try InstrumentSpec.parse(symbol)
                    let series = BarSeries(instrument: spec.key, barSize: plan.bar)
                    let covered = try await store.covered(series)
                    // From the newest stored bar (the last one may have been partial), or `days` back.
                    let start = covered.map(\.end).max().map { max($0 - 3600, now - Int64(plan.days) * 86_400) } ?? now - Int64(plan.days) * 86_400
                    let resolved = try await spec.resolve(with: model.runtime.client)
                    let contract = spec.contract.secType == "CONTFUT" ? spec.contract : resolved.contract
                    // Up to the last whole bar: one still forming would be stored as final.
                    let seconds = Int64(HistoricalSpan.barSeconds(plan.bar) ?? 60)
                    let report = try await downloader.download(series, contract: contract, span: TimeSpan(start, now - now % seconds))
                    stored += report.bars
                    if let failure = report.failed.first { problems.append("\(symbol): \(failure.reason)") }
                } catch is CancellationError {
                    break
                } catch {
                    problems.append("\(symbol): \(error)")
                }
            }
            model.ingest.ended(stored: stored, error: problems.isEmpty ? nil : problems.joined(separator: "; "))
            try? await Task.sleep(for: .seconds(plan.everySeconds))
        }
    }
}
