import ArgumentParser
import Foundation
import Moonwire
import PostgresBarStore
import TWSProtocol

/// A bar store a command opened, and how messages name it.
struct OpenedBarStore {
    let store: any BarStore
    let name: String
}

/// Runs `body` with the bar store a command names: `--store` (a SQLite file or a postgres://
/// URL), else the config's `history.store`, else bars.sqlite in the data folder. The store is
/// closed when `body` ends, however it ends.
func withBarStore<Result>(_ flag: String?, config: HostConfig?, _ body: (OpenedBarStore) async throws -> Result) async throws -> Result {
    let location = flag ?? config?.historyStore ?? HostConfig.dataFolder + "/bars.sqlite"
    // Messages name the store without its password, however it is spelled.
    let shown = ShownText.shown(StoreLocation.redacted(location))
    guard StoreLocation.looksLikePostgres(location) else {
        let store: SQLiteBarStore
        do { store = try SQLiteBarStore(path: location) } catch { throw RuntimeError("\(shown): \(error)") }
        return try await body(OpenedBarStore(store: store, name: shown))
    }
    // A mistyped URL is refused, never taken for the name of a SQLite file to create.
    guard location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") else {
        throw RuntimeError("bar store \(shown) is not a PostgreSQL URL (postgres://user:password@host:port/database)")
    }
    let store: PostgresBarStore
    do {
        store = try await PostgresBarStore.open(location)
    } catch {
        throw RuntimeError("bar store: " + StoreLocation.scrubbing("\(error)", of: location))
    }
    do {
        let result = try await body(OpenedBarStore(store: store, name: store.displayURL))
        await store.shutdown()
        return result
    } catch {
        await store.shutdown()
        throw error
    }
}

/// The config a history command reads `history.store` from (found as for run; none is fine).
func historyConfig(_ flag: String?) throws -> HostConfig? {
    guard let path = try configFile(flag).path else { return nil }
    do { return try HostConfig.load(path: path) } catch let error as HostConfigError { throw RuntimeError(error.message) }
}

/// A day given on the command line (`YYYY-MM-DD`, or with a time), as UTC epoch seconds.
func day(_ text: String, _ option: String) throws -> Int64 {
    guard let day = HistoryPlan.parseDay(text) else {
        throw ValidationError("\(option) '\(ShownText.shown(text, limit: 40))' is not a date: YYYY-MM-DD (a real day: 2024-02-29, not 2024-02-30), "
                              + "optionally with a UTC time (2024-01-02 14:30)")
    }
    // 1900-01-01 to 2199-12-31: beyond, a span of bars (and the requests to fetch it) is absurd.
    guard (-2_208_988_800..<7_258_118_400).contains(day) else {
        throw ValidationError("\(option) '\(text)' is out of range (1900-01-01 to 2199-12-31)")
    }
    return day
}

/// `moonwire history import FILE.csv --instrument AAPL --bar "1 min"`: bars from elsewhere,
/// and what the instrument is worth in money (`--multiplier 50 --tick 0.25` for ES), kept
/// beside them for backtests.
struct HistoryImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import bars from a CSV file (time,open,high,low,close[,volume,wap,count]; time: 2024-01-02T14:30:00Z, 2024-01-02 14:30:00 (UTC unless --times-in), 2024-01-02T09:30:00-05:00, epoch seconds, or a date 2024-01-02 for daily bars).",
        discussion: """
            The instrument's details are stored with the bars, for backtests: what --sec-type, --currency, --exchange, \
            --multiplier and --tick give, the rest from its name (EUR.USD: forex quoted in USD; AAPL: a US stock, tick 0.01), \
            else assumed (currency USD, multiplier 1, tick 0.01) with a note. Details already stored stay; given values \
            that disagree with them refuse the import unless --replace-details. --time-zone and --session say where its \
            trading days begin and end (a backtest's "1 day" bars built from these follow them; default for a US stock: \
            US/Eastern, 09:30-16:00); given ones replace what is stored.
            """)

    @Argument(help: "The CSV file (a header line first).") var file: String
    @Option(help: "The instrument the bars are of: AAPL, \"ES 202612\", EUR.USD, ...") var instrument: String
    @Option(help: "Their bar size, as IB spells it (1 min, 5 mins, 1 day, ...).") var bar: String
    @Option(help: "What they show (TRADES, MIDPOINT, ...).") var what = "TRADES"
    @Option(help: "The bar store: a SQLite file or postgres://user:password@host:port/database (default: history.store of the config, else bars.sqlite in the data folder).") var store: String?
    @Option(help: "YAML config (for history.store).") var config: String?
    @Option(name: .customLong("sec-type"), help: "Its security type, as its name has it: STK, FUT, CASH, OPT (or FOP), IND.") var secType: String?
    @Option(help: "The currency its prices are in (default: from its name, else USD).") var currency: String?
    @Option(help: "Its exchange (default: from its name: SMART, IDEALPRO).") var exchange: String?
    @Option(parsing: .unconditional, help: "Contract size: 50 for ES (default: 1; 100 for an option).") var multiplier: Double?
    @Option(parsing: .unconditional, help: "Minimum price step: 0.25 for ES (default: 0.01; forex 0.00005, yen pairs 0.005).") var tick: Double?
    @Option(name: .customLong("time-zone"), help: "The time zone of its exchange: America/New_York, US/Central, Europe/London, ... (default: US/Eastern for a US stock or a forex pair). IB's abbreviations name places, summer time included: EST is New York's clock, GMT London's. Day bars built from these bars follow its days.") var timeZone: String?
    @Option(help: "Its regular session in that zone, HH:MM-HH:MM: what a day bar built from these bars covers (default: 09:30-16:00 for a US stock, 17:00-17:00 for forex; 17:00-16:00 starts the evening before).") var session: String?
    @Flag(name: .customLong("replace-details"), help: "Replace stored instrument details the given ones disagree with.") var replaceDetails = false
    @Option(name: .customLong("times-in"), help: "The clock the file's times without a zone (2024-01-02 09:30:00) show: America/New_York for a file in New York's time (default: UTC). Summer time included: a time in the hour the clocks skip is refused; the hour they repeat is read in the file's order. Times with Z or an offset, epoch seconds and dates are read as they say.") var timesIn: String?

    func run() async throws {
        let spec: InstrumentSpec
        do { spec = try InstrumentSpec.parse(instrument) } catch { throw ValidationError("--instrument: \(error)") }
        let key = spec.key
        let given = try ImportedDetails(secType: secType, currency: currency, exchange: exchange, multiplier: multiplier, tick: tick,
                                        timeZone: timeZone, session: session).validated(for: spec)
        let barSeconds = try BarSizeOption.check(bar)
        let naiveZone = try timesIn.map { try TimeZoneOption.zone($0, option: "--times-in") }
        // An abbreviation names a place (IB's: GMT is London's clock, summer time included):
        // say which, before a file in plain UTC goes in an hour off half the year.
        if let zone = naiveZone, let name = timesIn, zone.identifier != name.trimmingCharacters(in: .whitespaces) {
            say("note: --times-in \(ShownText.shown(name)): read as \(zone.identifier)'s clock"
                + (zone.nextDaylightSavingTimeTransition == nil ? "" : ", summer time included (give UTC for a clock without it)"))
        }
        guard FileManager.default.isReadableFile(atPath: file) else { throw RuntimeError("\(file): no such file") }
        let series = BarSeries(instrument: key, barSize: bar, what: what)
        let (name, notes, summary) = try await withBarStore(store, config: try historyConfig(config)) { opened in
            // The details are decided first: a disagreement refuses the import before any bar
            // is written. They are saved once the bars are in (a bad line stores nothing).
            let outcome: ImportedDetails.Outcome
            do {
                outcome = given.outcome(for: spec, stored: try await opened.store.instrument(key), replace: replaceDetails)
            } catch {
                throw RuntimeError("\(opened.name): \(error); nothing was imported")
            }
            if case let .conflict(message) = outcome { throw RuntimeError("\(message); nothing was imported") }
            // Streamed: the file parsed in chunks while the bars go in, in one transaction (all
            // of the file or nothing; memory flat in the file's size). The file's span counts
            // as covered: a download will not ask TWS for it again.
            let summary: BarImportSummary
            do {
                summary = try await opened.store.importCSV(fileAt: file, as: series, barSeconds: Int64(barSeconds), naiveTimesIn: naiveZone)
            } catch let failure as BarCSV.Failure {
                throw RuntimeError(Self.refusal(failure, file: file))
            } catch {
                throw RuntimeError("\(opened.name): \(error); nothing was imported")
            }
            guard summary.bars > 0 else { throw RuntimeError("\(file): no bars after the header; nothing was imported") }
            var notes: [String] = []
            // Bars smaller than a day with no time zone: say now what a backtest will do with them.
            let kept: StoredInstrument? = if case let .save(details, _) = outcome { details } else { try? await opened.store.instrument(key) }
            let name = ShownText.shown(file)
            let naive = summary.clock.naive, second = summary.clock.secondPass
            if naiveZone == nil, naive.count > 0 {
                notes.append("\(name): \(naive.count == summary.bars ? "its" : "\(naive.count) of its") times have no zone (as on line "
                             + "\(naive.first ?? 1)): they were read as UTC; if they are an exchange's clock, --times-in names it "
                             + "(America/New_York, ...)")
            }
            if let zone = naiveZone, second.count > 0 {
                notes.append("\(name): \(second.count) time\(second.count == 1 ? "" : "s") in the hour \(zone.identifier)'s clocks repeat "
                             + "\(second.count == 1 ? "was" : "were") read as its second pass (the first on line \(second.first ?? 1)), "
                             + "as a time before the line above it; check \(second.count == 1 ? "it" : "them") if the file did not go "
                             + "through that hour twice")
            }
            if barSeconds < 86400, (kept?.timeZone ?? "").isEmpty {
                notes.append("\(key): no time zone or session is stored: day bars a backtest builds from these are cut at UTC midnight "
                             + "(give --time-zone and --session)")
            }
            if case let .save(details, saidNotes) = outcome {
                notes = saidNotes + notes
                do {
                    try await opened.store.saveInstrument(details)
                } catch {
                    throw RuntimeError("\(opened.name): the bars were imported, the instrument details were not: \(error) "
                                       + "(import again with the same options to save them)")
                }
            }
            return (opened.name, notes, summary)
        }
        for note in notes { say("note: \(note)") }
        let span = summary.covered.map { " (\($0))" } ?? ""
        say("imported \(summary.bars) bar\(summary.bars == 1 ? "" : "s") of \(series)\(span) into \(name)")
    }

    /// A refused file: each bad line as `bars.csv:17: volume 'inf' is not a finite number`
    /// (clickable in an editor), the first few of them, and that nothing was stored.
    static func refusal(_ failure: BarCSV.Failure, file: String) -> String {
        let name = ShownText.shown(file)
        let lines = failure.problems.map { "\(name):\($0.line): \($0.message)" }
        if failure.total == 1, let only = lines.first { return only + "; nothing was imported" }
        let shown = failure.total > lines.count ? " (the first \(lines.count) below)" : ""
        return "\(name): \(failure.total) bad lines\(shown); nothing was imported\n" + lines.joined(separator: "\n")
    }
}

/// `moonwire history export AAPL --bar "1 min" > aapl.csv`: bars to CSV.
struct HistoryExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export stored bars as CSV (time in UTC ISO 8601) to standard output or --output.")

    @Argument(help: "The instrument: AAPL, \"ES 202612\", ...") var instrument: String
    @Option(help: "The bar size, as stored.") var bar: String
    @Option(help: "What they show.") var what = "TRADES"
    @Option(help: "First day (UTC), YYYY-MM-DD (default: the first stored).") var from: String?
    @Option(help: "Day after the last (UTC), YYYY-MM-DD (default: the last stored).") var to: String?
    @Option(help: "Write here instead of standard output.") var output: String?
    @Option(help: "The bar store: a SQLite file or postgres://user:password@host:port/database (default: history.store of the config, else bars.sqlite in the data folder).") var store: String?
    @Option(help: "YAML config (for history.store).") var config: String?

    func run() async throws {
        let key: String
        do { key = try InstrumentSpec.parse(instrument).key } catch { throw ValidationError("\(error)") }
        let start = try from.map { try day($0, "--from") } ?? Int64.min / 2
        let end = try to.map { try day($0, "--to") } ?? Int64.max / 2
        let series = BarSeries(instrument: key, barSize: bar, what: what)
        let bars = try await withBarStore(store, config: try historyConfig(config)) { opened in
            let bars: [StoredBar], known: [String]
            do {
                bars = try await opened.store.bars(series, in: TimeSpan(start, end))
                known = bars.isEmpty ? try await opened.store.series().map(\.description) : []
            } catch {
                throw RuntimeError("\(opened.name): \(error)")
            }
            guard !bars.isEmpty else {
                throw RuntimeError("no bars of \(series) in \(opened.name)" + (known.isEmpty ? "" : "; it has: \(known.joined(separator: ", "))"))
            }
            return bars
        }
        let text = BarCSV.write(bars.map(TraderNumbers.cleaned))
        if let output {
            do { try text.write(toFile: output, atomically: true, encoding: .utf8) } catch { throw RuntimeError("\(output): \(error.localizedDescription)") }
            say("exported \(bars.count) bars of \(series) to \(output)")
        } else {
            // A reader that went away (`| head`) ends the export quietly, with the status a
            // program killed by SIGPIPE has: the rest was not wanted.
            if !DescriptorOutput.write(text, to: STDOUT_FILENO) { Foundation.exit(errno == EPIPE ? 141 : ExitStatus.failure) }
        }
    }
}
