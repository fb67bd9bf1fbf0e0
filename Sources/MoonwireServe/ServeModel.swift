import Foundation
import Moonwire
import NIOConcurrencyHelpers
import StrategyHost
import TradingState

/// What the HTTP face keeps beside the runtime: what the runtime's events tell that no
/// snapshot holds (failed reloads, each strategy's last error, the account's PnL parts), the
/// log's newest lines, and scheduled ingest's progress.
final class ServeModel: Sendable {
    let runtime: MoonwireRuntime
    let settings: ServeSettings
    let logTail: LogTail
    let ingest: IngestProgress
    let metrics: ServeMetrics
    let fanOut = EventFanOut()
    /// Where `POST /api/strategies` may load files from (`StrategyFolders`).
    let strategyFolders: [String]
    private let kept = NIOLockedValueBox(Kept())

    struct Kept {
        var lastError: [String: String] = [:]
        var pnl: (daily: Double?, unrealized: Double?, realized: Double?) = (nil, nil, nil)
        var reconnections = 0
        var connectedSince: Date? = Date()
    }

    init(runtime: MoonwireRuntime, settings: ServeSettings, logTail: LogTail, metrics: ServeMetrics) {
        self.runtime = runtime
        self.settings = settings
        self.logTail = logTail
        self.metrics = metrics
        self.ingest = IngestProgress(plan: settings.ingest)
        let working = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).resolvingSymlinksInPath().path
        let started = runtime.strategyNames.compactMap { runtime.strategyPath(named: $0) }
            .map { URL(fileURLWithPath: $0).deletingLastPathComponent().resolvingSymlinksInPath().path }
        strategyFolders = Array(Set([working] + started + settings.strategyFolders)).sorted()
    }

    /// Follows the run until it stops (or this is cancelled): every event into what is kept,
    /// the metrics and the event stream; the log's lines and the quotes (every 250 ms, the
    /// changed ones) into the event stream.
    func follow() async {
        let fanOut = self.fanOut
        logTail.listen { [weak self] line in
            guard let self else { return }
            if line.level >= .error, self.runtime.strategyNames.contains(line.source) { self.noteError(strategy: line.source, message: line.message) }
            fanOut.broadcast(fanOut.message(for: line))
        }
        await withDiscardingTaskGroup { group in
            group.addTask {
                var coalescer = QuoteCoalescer()
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    guard fanOut.clientCount > 0 else { continue }
                    if let message = coalescer.changes(in: self.runtime.latestQuotes) { fanOut.broadcast(message) }
                }
            }
            for await event in runtime.events() {
                note(event)
                metrics.note(event)
                if let message = fanOut.message(for: event) { fanOut.broadcast(message) }
            }
            group.cancelAll()
        }
        logTail.listen { _ in }
    }

    /// Folds one runtime event into what is kept.
    func note(_ event: MoonwireEvent) {
        kept.withLockedValue { kept in
            switch event {
            case let .reloaded(strategy, outcome) where !outcome.succeeded:
                kept.lastError[strategy] = "reload failed: " + (outcome.error ?? "?")
            case let .trading(.pnl(daily, unrealized, realized)):
                kept.pnl = (daily ?? kept.pnl.daily, unrealized ?? kept.pnl.unrealized, realized ?? kept.pnl.realized)
            case let .connection(state):
                if state == "restored" || state == "connected" {
                    if kept.connectedSince == nil { kept.connectedSince = Date() }
                    if state == "restored" { kept.reconnections += 1 }
                } else {
                    kept.connectedSince = nil
                }
            default:
                break
            }
        }
    }

    /// A strategy's error as its log said it (`on_quote failed: ...`).
    func noteError(strategy: String, message: String) {
        kept.withLockedValue { $0.lastError[strategy] = message }
    }

    var snapshotOfKept: Kept { kept.withLockedValue { $0 } }
}
