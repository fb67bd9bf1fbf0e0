import ArgumentParser
import Foundation
import Logging
import Moonwire
import NIOConcurrencyHelpers
import TWSClient
import TWSProtocol

/// `moonwire history ...`: the bar store's commands. Downloading is the default.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Historical bars: download them into the bar store (default), import or export CSV.",
        subcommands: [HistoryDownloadCommand.self, HistoryImportCommand.self, HistoryExportCommand.self],
        defaultSubcommand: HistoryDownloadCommand.self)
}

/// `moonwire history AAPL,MSFT,"ES 202612" --from 2024-01-01 --to 2024-03-31 --bar "1 min"`:
/// downloads bars into the bar store, asking only for what it does not have yet.
struct HistoryDownloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download historical bars into the bar store (SQLite or PostgreSQL): within IB's pacing rules, resuming what is already stored.")

    @Argument(help: "Instruments, comma-separated or one per argument: AAPL,MSFT \"ES 202612\" EUR.USD.") var instruments: [String]
    @Option(help: "First day (UTC), YYYY-MM-DD (or YYYY-MM-DD HH:MM).") var from: String
    @Option(help: "Day after the last (UTC), YYYY-MM-DD (default: now).") var to: String?
    @Option(help: "Bar size, as IB spells it: 1 secs, 5 secs, 1 min, 5 mins, 1 hour, 1 day, ...") var bar = "1 min"
    @Option(help: "TRADES, MIDPOINT, BID, ASK, BID_ASK, ...") var what = "TRADES"
    @Flag(help: "Regular trading hours only.") var rth = false
    @Option(help: "The bar store: a SQLite file or postgres://user:password@host:port/database (default: history.store of the config, else bars.sqlite in the data folder).") var store: String?
    @Option(help: "YAML config (default: $MOONWIRE_CONFIG, else ./Config/moonwire.yaml, else ~/.config/moonwire/moonwire.yaml).") var config: String?
    @Option(help: "paper or HOST:PORT of TWS / IB Gateway (default: the connection settings, else the built-in paper gateway).") var gateway: String?
    @Option(name: .customLong("client-id"), parsing: .unconditional, help: "API client id (default: IB_CLIENT_ID, connection.client_id, else 1).") var clientId: Int?

    func run() async throws {
        let names = instruments.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw ValidationError("name at least one instrument") }
        if let clientId { try OptionRange.check(clientId, "--client-id", OptionRange.clientIds) }
        let specs: [InstrumentSpec]
        do {
            specs = try names.map { try InstrumentSpec.parse($0) }
        } catch let error as InstrumentSpecError {
            throw ValidationError("\(error)")
        }
        let start = try day(from, "--from")
        let end = try to.map { try day($0, "--to") } ?? Int64(Date().timeIntervalSince1970)
        guard end > start else { throw ValidationError("--to must come after --from") }
        guard HistoryPlan.maxSpan(barSize: bar) != nil else {
            throw ValidationError(BarSizeOption.message(bar))
        }
        let configuration = try loadConfiguration(config: config, gateway: gateway, clientId: clientId).configuration
        try await withBarStore(store, config: configuration.host) { opened in
            let barStore = opened.store
            let (client, paper) = try await connectForData(configuration)
            say("storing \(bar) \(what) bars in \(opened.name)"
                + (paper != nil ? " from the built-in paper gateway (synthetic prices, not a market's: set a connection to TWS for real ones)" : ""))

            var retrying = HistoryDownloader(client: client, store: barStore)
            retrying.notice = { say($0) }
            let downloader = retrying
            let lastShown = NIOLockedValueBox<[String: Date]>([:])
            let work = Task { () -> [HistoryDownloader.Report] in
                var reports: [HistoryDownloader.Report] = []
                for spec in specs {
                    let series = BarSeries(instrument: spec.key, barSize: bar, what: what)
                    guard let contract = await Self.resolve(spec, client: client, keepingDetailsIn: barStore) else { continue }
                    do {
                        let report = try await downloader.download(series, contract: contract, span: TimeSpan(start, end), useRTH: rth) { progress in
                            let due = lastShown.withLockedValue { shown -> Bool in
                                guard Date().timeIntervalSince(shown[series.instrument] ?? .distantPast) >= 1 || progress.requestsDone == progress.requestsTotal
                                else { return false }
                                shown[series.instrument] = Date()
                                return true
                            }
                            guard due else { return }
                            say("\(series.instrument): \(progress.requestsDone)/\(progress.requestsTotal) requests, \(progress.bars) bars"
                                + (progress.eta.map { Self.timeLeft($0, pacing: progress.pacingBound) } ?? ""))
                        }
                        reports.append(report)
                    } catch is CancellationError {
                        break
                    } catch {
                        Console.shared.log("error: \(series.instrument): \(error)")
                    }
                }
                return reports
            }
            let interrupted = NIOLockedValueBox(false)
            let signals = Task {
                let signal = await SignalWaiter().wait(for: [SIGINT, SIGTERM])
                interrupted.withLockedValue { $0 = true }
                say("interrupted: what was stored stays; run the same command again to resume")
                work.cancel()
                return signal
            }
            let reports = await work.value
            signals.cancel()
            await client.stop()
            try? await paper?.shutdown()
            for report in reports {
                let stored = (try? await barStore.count(report.series)) ?? 0
                var line = "\(report.series.instrument): \(report.bars) bars in \(report.requests) requests, \(stored) stored in all"
                if report.alreadyCovered { line += " (already stored: nothing asked)" }
                if !report.noData.isEmpty { line += "; no data for \(report.noData.count) span(s)" }
                if let head = report.headTimestamp { line += " (TWS's data starts \(TimeSpan(head, head).description.prefix(16)))" }
                say(line)
                for failure in report.failed { say("  gap: \(failure.span): \(failure.reason) (asked again next time)") }
            }
            if interrupted.withLockedValue({ $0 }) {
                // What the interrupted download and those not begun keep (the finished ones are above).
                for spec in specs where !reports.contains(where: { $0.series.instrument == spec.key }) {
                    let series = BarSeries(instrument: spec.key, barSize: bar, what: what)
                    let stored = (try? await barStore.count(series)) ?? 0
                    say("\(spec.key): \(stored) \(bar) bars stored in all; not finished (the same command resumes it)")
                }
                throw ExitCode(ExitStatus.signal(SIGINT))
            }
            if reports.contains(where: { !$0.failed.isEmpty }) || reports.count < specs.count { throw ExitCode(ExitStatus.failure) }
        }
    }

    /// The contract TWS confirms for a name (its conId; a continuous future as named), or nil
    /// after saying why not. What TWS answered about it is kept in `store` beside its bars.
    /// `, about 95 s left`, or `, about 14 min left (IB's pacing: 60 requests in 10 min)` when
    /// the pacing's waits, not the answers, decide it.
    static func timeLeft(_ seconds: Double, pacing: Bool) -> String {
        let amount = switch seconds {
        case ..<120: String(format: "%.0f s", seconds)
        case ..<7200: String(format: "%.0f min", (seconds / 60).rounded(.up))
        case ..<172_800: String(format: "%.0f h", (seconds / 3600).rounded(.up))
        default: String(format: "%.0f days", (seconds / 86400).rounded(.up))
        }
        return ", about \(amount) left" + (pacing ? " (IB's pacing of bars of 30 s or less: 60 requests in 10 min)" : "")
    }

    static func resolve(_ spec: InstrumentSpec, client: TWSClient, keepingDetailsIn store: any BarStore) async -> Contract? {
        do {
            let resolved = try await spec.resolve(with: client)
            try await keepDetails(of: resolved, in: store)
            return spec.contract.secType == "CONTFUT" ? spec.contract : resolved.contract
        } catch {
            Console.shared.log("error: \(error is InstrumentSpecError ? "" : "\(spec.key): ")\(error)")
            return nil
        }
    }

    /// Keeps what TWS answered about an instrument (sec type, currency, exchange, multiplier,
    /// tick, trading hours, a pair's base) beside its bars, so a backtest over them later counts
    /// the same money without asking TWS. TWS's answer replaces what was stored, saying so when
    /// that changes money; an answer without a usable tick or multiplier is not stored (said).
    static func keepDetails(of resolved: ResolvedInstrument, in store: any BarStore) async throws {
        let details = StoredInstrument(key: resolved.key, contract: resolved.contract, details: resolved.details)
        if let problem = details.problem {
            say("note: \(resolved.key): TWS's details are not stored (\(problem)); a backtest offline assumes them")
            return
        }
        let stored = try await store.instrument(resolved.key)
        if let stored, stored.problem == nil {
            let changes = stored.moneyDifferences(from: details, mine: "stored", theirs: "TWS")
            if !changes.isEmpty { say("note: \(resolved.key): instrument details replaced by TWS's: \(changes.joined(separator: ", "))") }
        }
        if stored != details { try await store.saveInstrument(details) }
    }
}
