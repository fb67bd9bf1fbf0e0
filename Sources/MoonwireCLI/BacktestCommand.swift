import ArgumentParser
import Backtest
import Foundation
import Money
import Logging
import Moonwire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TWSClient
import TWSProtocol

/// `moonwire backtest STRATEGY.lua --instruments AAPL --from 2024-01-01 --to 2024-12-31 --bar "1 min"`:
/// the same file, handlers and Lua API as `moonwire run`, over stored bars on a simulated clock.
struct BacktestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Run a strategy file over stored bars (the same Lua API, risk gate and handlers as run), with stated fill rules.",
        discussion: """
            Fills (the default never looks ahead): an order placed while a bar is handled meets the next bar. \
            Market: the next bar's open. Limit: when a later bar trades through it, at the limit (at the open if it opens \
            beyond it). Stop: when a later bar reaches it, at the stop (at the open if it gaps through). \
            --fill same-close fills market orders at the close of the bar they were placed on. \
            Missing bars are downloaded first when TWS (or the built-in paper gateway) is reachable, unless --offline.
            """)

    @Argument(help: "The strategy file (.lua).") var file: String
    @Option(help: "Instruments, comma-separated: AAPL,MSFT,\"ES 202612\".") var instruments: String
    @Option(help: "First day (UTC), YYYY-MM-DD (or YYYY-MM-DD HH:MM).") var from: String
    @Option(help: "Day after the last (UTC), YYYY-MM-DD.") var to: String
    @Option(help: "Bar size of the stored bars: 1 min, 5 mins, 1 hour, 1 day, ...") var bar = "1 min"
    @Option(help: "TRADES, MIDPOINT, BID, ASK, ...") var what = "TRADES"
    @Option(name: .customLong("param"), help: "name=value for the strategy's params (repeatable); name=a,b,c sweeps the values in parallel (\\, is a comma within a value, \\\\ a backslash).")
    var params: [String] = []
    @Option(help: "Fill timing: next-open (default) or same-close.") var fill = "next-open"
    // `.unconditional` on the numbers: `--cash -5` reaches the range check ("--cash must be
    // between ...") instead of ArgumentParser reading `-5` as an option and saying the value is missing.
    @Option(parsing: .unconditional, help: "Slippage in ticks against market and stop fills.") var slippage = 0
    @Option(help: "Commission: ib-fixed (default), ib-tiered, none, or per-unit:AMOUNT.") var commission = "ib-fixed"
    @Option(parsing: .unconditional, help: "Tick size for slippage where neither TWS nor the bar store gives one (default 0.01).") var tick: Double?
    @Option(help: "Contract size, KEY=N (repeatable), e.g. \"ES 202612=50\", over what TWS or the bar store says.") var multiplier: [String] = []
    @Option(parsing: .unconditional, help: "Starting cash.") var cash = 100_000.0
    @Option(name: .customLong("base-currency"), help: "The currency money is counted in; an instrument quoted in another needs stored bars of the pair (USD.JPY).")
    var baseCurrency = "USD"
    @Option(help: "Folder for the report, trades, fills and equity (default: backtests/NAME-TIME).") var out: String?
    @Option(parsing: .unconditional, help: "How many sweep runs at once (default: the number of cores).") var jobs: Int?
    @Flag(help: "Use only what is stored; never connect to fetch missing bars.") var offline = false
    @Flag(help: "Show the strategy's log lines.") var verbose = false
    @Option(help: "The bar store: a SQLite file or postgres://user:password@host:port/database (default: history.store of the config, else bars.sqlite in the data folder).") var store: String?
    @Option(help: "YAML config (risk limits, budgets, params; default lookup as for run).") var config: String?
    @Option(help: "paper or HOST:PORT of TWS / IB Gateway, for missing bars.") var gateway: String?
    @Option(name: .customLong("client-id"), parsing: .unconditional, help: "API client id for fetching missing bars.") var clientId: Int?

    func run() async throws {
        guard FileManager.default.fileExists(atPath: file) else { throw ValidationError("\(file): no such strategy file") }
        // Starting cash is what every return, drawdown and Sharpe ratio divides by.
        // At least 1: a return on 1e-300 of cash printed a number 300 digits long.
        try OptionRange.check(cash, "--cash", 1...PaperGatewayConfig.maxMoney)
        if let jobs { try OptionRange.check(jobs, "--jobs", 1...256) }
        if let clientId { try OptionRange.check(clientId, "--client-id", OptionRange.clientIds) }
        let specs = try parseInstruments()
        let start = try day(from, "--from"), end = try day(to, "--to")
        guard end > start else { throw ValidationError("--to must come after --from") }
        try BarSizeOption.check(bar, strict: false)
        let (fixed, sweep) = try parseParams()
        ParamNotes.note(for: Array(fixed.keys) + sweep.map(\.name), strategyAt: file)
        let base = baseCurrency.uppercased()
        guard base.count == 3, base.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw ValidationError("--base-currency '\(ShownText.shown(baseCurrency))' is not a currency's three letters (USD, EUR, JPY, ...)")
        }
        let loaded = try loadConfiguration(config: config, gateway: gateway, clientId: clientId)
        try await withBarStore(store, config: loaded.configuration.host) { opened in
            let barStore = opened.store

            var setup = BacktestSetup(strategyPath: file, span: TimeSpan(start, end))
            setup.barSize = bar
            setup.what = what.uppercased()
            setup.params = fixed
            setup.rules = try fillRules()
            setup.initialCash = cash
            setup.baseCurrency = base
            setup.host = loaded.configuration.host
            setup.host.strategy.testAPI = false

            let (instruments, notices) = try await prepareBars(specs, setup: setup, store: barStore, configuration: loaded.configuration)
            for notice in notices { say("note: \(notice)") }
            let combinations = ParameterSweep.combinations(sweep)
            let data: BacktestData
            do {
                // One run reads its bars as it goes; a sweep's runs share them, read first.
                data = try await BacktestData.load(setup: setup, instruments: instruments, store: barStore, notices: notices,
                                                   streaming: combinations.count <= 1 ? .standard : nil)
            } catch let error as BacktestDataError {
                throw RuntimeError(error.message)
            }
            // What loading the bars found (bars left out as unusable), said before the run.
            for notice in data.notices.dropFirst(notices.count) { say("note: \(notice)") }
            guard data.barCount > 0 else {
                let keys = instruments.map(\.key).joined(separator: ",")
                throw RuntimeError("no stored \(bar) \(setup.what) bars of \(keys) in \(opened.name) from \(from) to \(to): nothing to backtest "
                                   + "(download them: moonwire history \(keys) --from \(from) --to \(to) --bar \"\(bar)\", or import a CSV)")
            }
            // A streamed run's bars are counted as they are read: the summary says how many ran.
            let count = data.streams ? "the" : "\(data.barCount)"
            say("backtesting \(setup.name) over \(count) \(bar) bars of \(instruments.map(\.key).joined(separator: ", ")) from \(opened.name)")

            if combinations.count > 1 {
                // No log.txt: a sweep's combinations have no folders of their own (run one
                // alone, with its --param values, for its log and report).
                try await runSweep(data, combinations: combinations, logger: Logger(label: "backtest") { consoleHandler(label: $0) })
            } else {
                try await runOne(data, params: combinations.first ?? [:])
            }
        }
    }

    private func parseInstruments() throws -> [InstrumentSpec] {
        let names = instruments.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw ValidationError("--instruments names no instrument") }
        do {
            return try names.map { try InstrumentSpec.parse($0) }
        } catch {
            throw ValidationError("--instruments: \(error)")
        }
    }

    /// Fixed params, and the ones given several values (the sweep), in the order given.
    private func parseParams() throws -> ([String: String], [(name: String, values: [String])]) {
        var fixed: [String: String] = [:]
        var sweep: [(name: String, values: [String])] = []
        for param in params {
            guard let equals = param.firstIndex(of: "="), equals != param.startIndex else {
                throw ValidationError("--param '\(param)' is not name=value (or name=a,b,c to sweep)")
            }
            let name = String(param[..<equals]), value = String(param[param.index(after: equals)...])
            // A name given twice would drop one of its values without a word.
            guard fixed[name] == nil, !sweep.contains(where: { $0.name == name }) else {
                throw ValidationError("--param \(ShownText.shown(name)) is given twice: give it once (name=a,b,c sweeps several values)")
            }
            let parts = Self.paramValues(value)
            let values = parts.map { $0.trimmingCharacters(in: .whitespaces) }
            if values.count > 1 {
                guard !values.contains(where: \.isEmpty) else { throw ValidationError("--param \(name): an empty value in '\(value)'") }
                guard Set(values).count == values.count else {
                    throw ValidationError("--param \(ShownText.shown(name)): a value given twice in '\(ShownText.shown(value))' (each combination runs once)")
                }
                sweep.append((name, values))
            } else {
                fixed[name] = parts[0]
            }
        }
        return (fixed, sweep)
    }

    /// A `--param` value's values: split at each comma, except one after a backslash, which is
    /// part of the value (`a\,b` is the one value `a,b`); `\\` is a backslash, and any other
    /// backslash stays as it is.
    static func paramValues(_ value: String) -> [String] {
        var values = [""]
        var escaped = false
        for character in value {
            if escaped {
                if character != "," && character != "\\" { values[values.count - 1].append("\\") }
                values[values.count - 1].append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "," {
                values.append("")
            } else {
                values[values.count - 1].append(character)
            }
        }
        if escaped { values[values.count - 1].append("\\") }
        return values
    }

    /// A value as `--param` takes it back (`paramValues` gives it again): its backslashes and
    /// commas escaped.
    static func paramWord(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ",", with: "\\,")
    }

    private func fillRules() throws -> FillRules {
        var rules = FillRules()
        guard let timing = FillRules.Timing(rawValue: fill) else { throw ValidationError("--fill must be next-open or same-close, got '\(fill)'") }
        rules.timing = timing
        rules.slippageTicks = try OptionRange.check(slippage, "--slippage", 0...1_000)
        if let tick { rules.tickSize = try OptionRange.check(tick, "--tick", 0...10_000, exclusive: true) }
        guard let schedule = CommissionSchedule(parsing: commission) else {
            throw ValidationError("--commission must be ib-fixed, ib-tiered, none or per-unit:AMOUNT (0 to 1000), got '\(commission)'")
        }
        rules.commission = schedule
        return rules
    }

    /// The instruments as TWS resolves them, with the bars the store lacks downloaded first
    /// (and what TWS answered about them stored beside the bars), when TWS can be reached and
    /// --offline is not given; else as the store knows them (its instrument details), with
    /// what is stored, and notices naming what had to be assumed.
    private func prepareBars(_ specs: [InstrumentSpec], setup: BacktestSetup, store: any BarStore,
                             configuration: MoonwireConfiguration) async throws -> ([ResolvedInstrument], [String])
    {
        var sizes: [String: Double] = [:]
        for entry in multiplier {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let size = Double(parts[1]), size.isFinite, size > 0, size <= 1_000_000 else {
                throw ValidationError("--multiplier '\(entry)' is not KEY=N (N a contract size from 0 to 1000000)")
            }
            sizes[(try? InstrumentSpec.parse(parts[0]).key) ?? parts[0].uppercased()] = size
        }
        // Offline: what the store keeps about each instrument (the same TWS answered when its
        // bars were downloaded, or the import was told), the same money as online.
        // Also the instruments whose details the store keeps (kept with any of their bars, of
        // any size or kind, imported or downloaded).
        var detailed: Set<String> = []
        func fromStore() async throws -> ([ResolvedInstrument], [String]) {
            var instruments: [ResolvedInstrument] = [], notices: [String] = []
            for spec in specs {
                let stored: StoredInstrument?
                do { stored = try await store.instrument(spec.key) } catch { throw RuntimeError("\(spec.key): the bar store: \(error)") }
                if stored != nil { detailed.insert(spec.key) }
                let (instrument, notice) = BacktestData.storedInstrument(spec, stored: stored, multiplier: sizes[spec.key],
                                                                         defaultTick: setup.rules.tickSize)
                instruments.append(instrument)
                if let notice { notices.append(notice) }
            }
            return (instruments, notices)
        }
        // What the store never covered where the instruments trade, by what it keeps of them: a
        // weekend or a night never downloaded is no gap, and no connection is made for it.
        let stored = try await fromStore()
        let barSeconds = HistoricalSpan.barSeconds(setup.barSize, strict: false) ?? 60
        var missing: [(InstrumentSpec, [TimeSpan])] = []
        var holdsBars: Set<String> = []
        for (spec, instrument) in zip(specs, stored.0) {
            let series = BarSeries(instrument: spec.key, barSize: setup.barSize, what: setup.what)
            let covered = try await store.covered(series)
            if !covered.isEmpty || detailed.contains(spec.key) { holdsBars.insert(spec.key) }
            let gaps = BacktestData.tradingGaps(TimeSpan.missing(setup.span, covered: covered), of: instrument, barSeconds: barSeconds)
            if !gaps.isEmpty { missing.append((spec, gaps)) }
        }
        if missing.isEmpty || offline {
            for (spec, gaps) in missing { say("\(spec.key): \(gaps.count) span(s) of the backtest never downloaded (--offline): reported as gaps") }
            return stored
        }
        let client: TWSClient, paper: PaperGatewayServer?
        do {
            (client, paper) = try await connectForData(configuration)
        } catch {
            say("cannot fetch the missing bars (\(error)); backtesting on what is stored, the rest reported as gaps")
            return stored
        }
        if paper != nil {
            // Synthetic prices never fill the gaps of bars the store already holds (imported,
            // or downloaded from TWS): mixed in, they would be kept and taken for the market's.
            // An instrument the store has nothing of gets them, said (a demo's first run).
            for (spec, gaps) in missing where holdsBars.contains(spec.key) {
                say("\(spec.key): \(gaps.count) span(s) the store does not hold, reported as gaps: not filled from the built-in paper "
                    + "gateway, whose prices are synthetic (set a connection to TWS, import them, or download them with moonwire history)")
            }
            missing.removeAll { holdsBars.contains($0.0.key) }
            if missing.isEmpty {
                await client.stop()
                try? await paper?.shutdown()
                return stored
            }
            say("the missing bars come from the built-in paper gateway: synthetic prices, not a market's, and kept in the store "
                + "(give --offline to use only what is stored, or set a connection to TWS)")
        }
        // From the built-in paper gateway only the instruments it fills are asked about: the
        // others keep what the store knows of them (its details are not the paper gateway's).
        let asked = paper == nil ? specs : specs.filter { spec in missing.contains { $0.0 == spec } }
        do {
            let fetched = try await fetchMissing(asked, missing: missing.map(\.0), setup: setup, store: store, client: client)
            var next = fetched.makeIterator()
            var resolved = zip(specs, stored.0).map { spec, known in asked.contains(spec) ? next.next() ?? known : known }
            await client.stop()
            try? await paper?.shutdown()
            // --multiplier overrides TWS's answer as it overrides the store's.
            for index in resolved.indices {
                if let size = sizes[resolved[index].key] { resolved[index].contract.multiplier = StoredInstrument.multiplierField(size) }
            }
            // What was assumed of the instruments taken from the store is still said.
            return (resolved, stored.1.filter { notice in !asked.contains { notice.hasPrefix($0.key + ":") } })
        } catch {
            await client.stop()
            try? await paper?.shutdown()
            throw error
        }
    }

    /// The instruments as TWS resolves them, the `missing` ones' bars downloaded.
    private func fetchMissing(_ specs: [InstrumentSpec], missing: [InstrumentSpec], setup: BacktestSetup, store: any BarStore,
                              client: TWSClient) async throws -> [ResolvedInstrument]
    {
        var resolved: [ResolvedInstrument] = []
        let downloader = HistoryDownloader(client: client, store: store)
        for spec in specs {
            let instrument: ResolvedInstrument
            do {
                instrument = try await spec.resolve(with: client)
            } catch {
                throw RuntimeError("\(spec.key): \(error)")
            }
            resolved.append(instrument)
            // Kept beside the bars: an offline rerun builds the same instrument from it.
            do {
                try await HistoryDownloadCommand.keepDetails(of: instrument, in: store)
            } catch {
                throw RuntimeError("\(spec.key): cannot keep its instrument details in the bar store: \(error)")
            }
            guard missing.contains(spec) else { continue }
            let series = BarSeries(instrument: spec.key, barSize: setup.barSize, what: setup.what)
            say("\(spec.key): fetching the missing \(setup.barSize) bars first")
            let report = try await downloader.download(series, contract: spec.contract.secType == "CONTFUT" ? spec.contract : instrument.contract,
                                                       span: setup.span, useRTH: false) { _ in }
            say("\(spec.key): \(report.bars) bars in \(report.requests) requests" + (report.failed.isEmpty ? "" : ", \(report.failed.count) span(s) failed (gaps)"))
        }
        return resolved
    }

    /// `--out`, or a new folder of its own under `backtests/`: `NAME-TIME`, then `NAME-TIME-2`,
    /// ... when runs started in the same second (each made here, so two runs at once never
    /// share one and neither replaces the other's report).
    private func outputFolder(_ name: String) -> URL {
        if let out { return URL(fileURLWithPath: out) }
        let stamp = UTCTime.tws(Int64(Date().timeIntervalSince1970)).replacingOccurrences(of: " ", with: "-").replacingOccurrences(of: ":", with: "")
        let parent = URL(fileURLWithPath: "backtests")
        try? FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        let first = parent.appendingPathComponent("\(name)-\(stamp)")
        for attempt in 1...1_000 {
            let folder = attempt == 1 ? first : parent.appendingPathComponent("\(name)-\(stamp)-\(attempt)")
            // Made here, or another's: the next. Any other error is said when the report is written.
            guard mkdir(folder.path, 0o777) != 0, errno == EEXIST else { return folder }
        }
        return first
    }

    /// The strategy's lines on the console: every one with --verbose, else its errors only.
    private func consoleHandler(label: String) -> ConsoleLogHandler {
        var handler = ConsoleLogHandler(label: label)
        handler.logLevel = verbose ? .info : .error
        handler.simulatedTime = { SimulatedLogTime.now }
        return handler
    }

    private func runOne(_ data: BacktestData, params: [String: String]) async throws {
        // The folder is known before the run: log.txt fills as the strategy logs.
        let folder = outputFolder(data.setup.name)
        let log = BacktestLogFile(folder: folder)
        var committed = false
        defer { if !committed { log.settleFailed() } }  // a run that failed: what it logged, if anything
        let start = data.setup.span.start
        let logger = Logger(label: "backtest") { label in
            MultiplexLogHandler([consoleHandler(label: label), BacktestLogHandler(label: label, file: log, start: start)])
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // When the progress was last shown, and the bars it said.
        let lastShown = NIOLockedValueBox((at: Date.distantPast, bars: 0))
        let equity = EquityCSVFile(folder: folder)
        do {
            try equity.prepare()
        } catch {
            throw RuntimeError("cannot write the report: \(error) (--out names another folder)")
        }
        let work = Task {
            try await Backtester.run(data, params: params, loop: group.next(), logger: logger, equity: equity) { done, fraction in
                let due = lastShown.withLockedValue { shown -> Bool in
                    guard Date().timeIntervalSince(shown.at) >= 0.5 else { return false }
                    shown = (Date(), done)
                    return true
                }
                if due { Console.shared.status("backtest: \(done) bars (\(Int((fraction * 100).rounded(.down))) %)") }
            }
        }
        let signals = Task { await SignalWaiter().wait(for: [SIGINT, SIGTERM]) }
        // The signal that interrupted it: the exit status is 128 + it (130 Ctrl-C, 143 SIGTERM).
        let received = NIOLockedValueBox(SIGINT)
        let watcher = Task {
            let signal = await signals.value
            received.withLockedValue { $0 = signal }
            if !Task.isCancelled { work.cancel() }
            return signal
        }
        let result: BacktestResult
        do {
            result = try await work.value
        } catch {
            watcher.cancel()
            signals.cancel()
            try? await group.shutdownGracefully()
            equity.abandon()
            if let output = error as? BacktestOutputError {
                throw RuntimeError("cannot write the report: \(output); the run stopped there, as its report could not be whole")
            }
            // One line (a strategy that fails to load brings its Lua traceback: its first line
            // names the file and line).
            throw RuntimeError(Self.firstLine(of: error))
        }
        watcher.cancel()
        signals.cancel()
        try? await group.shutdownGracefully()
        // Not a terminal: progress lines are lines, and the last must not read as where it ended.
        let ran = result.metrics.barsProcessed
        if !Console.shared.statusInPlace, !result.interrupted, lastShown.withLockedValue({ $0.bars }) != ran {
            Console.shared.status("backtest: \(ran) bars (100 %)")
        }
        Console.shared.clearStatus()
        log.close(keepEmpty: true)  // whole before the report says where it is
        let data = result.streamedData ?? data
        for line in BacktestReport.summary(result, data: data) { say(line) }
        do {
            try BacktestReport.write(result, data: data, to: folder, equity: equity)
        } catch {
            equity.abandon()
            throw RuntimeError("cannot write the report: \(BacktestOutputError.describe(error, in: folder))")
        }
        // log.txt named with the rest, once the rest is written.
        committed = true
        if !log.commit() { Console.shared.log("warning: cannot name \(log.path): \(String(cString: strerror(errno)))") }
        say("report: \(folder.appendingPathComponent("report.html").path) (trades.csv, fills.csv, equity.csv, summary.json, \(BacktestLogFile.name) beside it)")
        if result.interrupted { throw ExitCode(ExitStatus.signal(received.withLockedValue { $0 })) }
        // A strategy whose handlers kept failing is no result to compare: said, and exit 1.
        if let paused = result.pausedReason {
            throw RuntimeError("the strategy was \(ShownText.shown(paused, limit: 300)); its figures after that are not the strategy's "
                               + "(the report is written, its log.txt holds every failure)")
        }
        if let failed = result.noResultReason {
            throw RuntimeError("\(ShownText.shown(failed, limit: 300)): its figures are not the strategy's (the report is written, "
                               + "its log.txt holds the failure)")
        }
    }

    private func runSweep(_ data: BacktestData, combinations: [[String: String]], logger: Logger) async throws {
        let width = max(1, min(jobs ?? System.coreCount, combinations.count))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: width)
        let loops = (0..<width).map { _ in group.next() }
        say("sweeping \(combinations.count) combinations, \(width) at a time")
        let done = NIOLockedValueBox(0)
        let count = combinations.count
        let work = Task {
            await ParameterSweep.run(data, combinations: combinations, loops: loops, logger: logger) { _, outcome in
                // A combination stopped by Ctrl-C is not done (nor compared below).
                if case let .success(result) = outcome, result.interrupted { return }
                let finished = done.withLockedValue { $0 += 1; return $0 }
                Console.shared.status("sweep: \(finished)/\(count) done")
            }
        }
        let received = NIOLockedValueBox(SIGINT)
        let watcher = Task {
            let signal = await SignalWaiter().wait(for: [SIGINT, SIGTERM])
            received.withLockedValue { $0 = signal }
            if !Task.isCancelled { work.cancel() }
        }
        let results = await work.value
        watcher.cancel()
        try? await group.shutdownGracefully()
        Console.shared.clearStatus()
        let names = combinations.first.map { $0.keys.sorted() } ?? []
        let header = names + ["net PnL", "return", "Sharpe", "max DD", "trades", "win rate"]
        var rows: [[String]] = []
        // The fixed --params too, a column each after the swept ones: the table read later
        // says every param its figures are of.
        let fixedNames = data.setup.params.keys.sorted().filter { !names.contains($0) }
        let fixedValues = fixedNames.map { BacktestReport.csvCell(data.setup.params[$0] ?? "") }
        var csv = [(names.map(BacktestReport.csvCell) + fixedNames.map(BacktestReport.csvCell) + ["net_pnl", "return", "cagr", "sharpe", "sortino", "max_drawdown",
                                                                              "trades", "win_rate", "profit_factor", "commissions", "bars",
                                                                              "interrupted", "error"]).joined(separator: ",")]
        for (index, outcome) in results.enumerated() {
            let raw = names.map { combinations[index][$0] ?? "" }
            let csvValues = raw.map(BacktestReport.csvCell) + fixedValues
            // On the console a value stays on its line and in its column (a line feed shown as \n).
            let values = raw.map { ShownText.shown($0) }
            switch outcome {
            case let .success(result) where result.noResultReason != nil:
                // Its handlers failed until it was paused, or its on_start failed: an error, not figures.
                let message = ShownText.shown(result.pausedReason ?? result.noResultReason ?? "", limit: 300)
                rows.append(values + ["error: \(message)"])
                csv.append((csvValues + ["", "", "", "", "", "", "", "", "", "", String(result.metrics.barsProcessed), result.interrupted ? "1" : "0",
                                         BacktestReport.csvCell(message)]).joined(separator: ","))
            case let .success(result) where result.interrupted && result.metrics.barsProcessed == 0:
                // Ctrl-C came before it ran a bar: no figures, not zeros that read as results.
                rows.append(values + ["not run (interrupted before its first bar)"])
                csv.append((csvValues + ["", "", "", "", "", "", "", "", "", "", "0", "1", "not run"]).joined(separator: ","))
            case let .success(result):
                let m = result.metrics
                rows.append(values + [BacktestReport.money(m.netPnL), BacktestReport.percent(m.totalReturn), BacktestReport.ratio(m.sharpe),
                                      BacktestReport.percent(m.maxDrawdownFraction), String(m.trades), BacktestReport.percent(m.winRate)]
                            + (result.interrupted ? ["(interrupted)"] : []))
                // Ratios without their money's arithmetic noise (summary.json's figures).
                let figure = { (value: Double?) in value.map(BacktestReport.figureText) ?? "" }
                csv.append((csvValues + [BacktestReport.fixed(m.netPnL, 2), figure(m.totalReturn), figure(m.cagr),
                                      figure(m.sharpe), figure(m.sortino), BacktestReport.fixed(m.maxDrawdown, 2),
                                      String(m.trades), figure(m.winRate), figure(m.profitFactor),
                                      BacktestReport.fixed(m.commissions, 2), String(m.barsProcessed), result.interrupted ? "1" : "0", ""]).joined(separator: ","))
            case let .failure(error):
                let message = Self.firstLine(of: error)
                rows.append(values + ["error: \(message)"])
                csv.append((csvValues + ["", "", "", "", "", "", "", "", "", "", "", "", "\"\(message.replacingOccurrences(of: "\"", with: "'"))\""]).joined(separator: ","))
            }
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in index < widths.count ? cell.padding(toLength: widths[index], withPad: " ", startingAt: 0) : cell }
                .joined(separator: "  ")
        }
        say(line(header))
        for row in rows { say(line(row)) }
        // Only whole runs are compared: one Ctrl-C stopped ran on fewer bars, or none.
        let best = results.enumerated().compactMap { index, outcome -> (Int, Double)? in
            if case let .success(result) = outcome, !result.interrupted, result.noResultReason == nil { return (index, result.metrics.netPnL) }
            return nil
        }.max { $0.1 < $1.1 }
        let stopped = results.filter { if case let .success(result) = $0 { result.interrupted } else { false } }.count
        if stopped > 0 {
            say("\(stopped) of \(results.count) combination\(results.count == 1 ? "" : "s") interrupted (marked, with the bars they ran): "
                + "left out of the best")
        }
        if let best {
            // The fixed --params too: pasted alone, the words must run the same combination.
            let pairs = names.map { "\($0)=\(Self.paramWord(combinations[best.0][$0] ?? ""))" }
                + fixedNames.map { "\($0)=\(Self.paramWord(data.setup.params[$0] ?? ""))" }
            say("best net PnL: " + pairs.map { ShownText.shown($0) }.joined(separator: " ")
                + " (run it alone for its report: " + pairs.map { "--param " + ShellWord.quoted($0) }.joined(separator: " ") + ")")
        }
        let folder = outputFolder(data.setup.name + "-sweep")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("sweep.csv")
        try Data((csv.joined(separator: "\n") + "\n").utf8).write(to: path, options: .atomic)
        say("table: \(path.path)")
        if work.isCancelled { throw ExitCode(ExitStatus.signal(received.withLockedValue { $0 })) }
        // A combination that did not run (its strategy failed to load) fails the sweep: a
        // script must not take a table of errors for results.
        let failures = results.compactMap { outcome -> String? in
            switch outcome {
            case let .failure(error): Self.firstLine(of: error)
            case let .success(result): result.noResultReason.map { ShownText.shown($0, limit: 300) }
            }
        }
        if let first = failures.first {
            throw RuntimeError("\(failures.count) of \(results.count) combinations failed (the first: \(first))")
        }
    }

    /// The first line of an error's description.
    static func firstLine(of error: any Error) -> String {
        "\(error)".split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? "\(error)"
    }
}
