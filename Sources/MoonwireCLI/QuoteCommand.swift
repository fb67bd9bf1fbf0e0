import ArgumentParser
import Foundation
import Logging
import Moonwire
import NIOConcurrencyHelpers
import TWSClient
import TWSProtocol

/// `moonwire quote AAPL MSFT "ES 202612" EUR.USD`: a live quote table, redrawn in place on a
/// terminal (plain tables otherwise); `--once` prints one snapshot and exits. An instrument
/// TWS does not know is one `error:` line on standard error and exit 1; a reader that goes away
/// (`| head -1`) ends the stream, exit 0.
struct QuoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quote",
        abstract: "Show live quotes (bid, ask, last, sizes, day change, delayed) for instruments; --once for a snapshot.")

    @Argument(help: "Instruments: AAPL, EUR.USD, \"ES 202612\", \"AAPL 20261218 C 190\", ^SPX.") var instruments: [String]
    @Option(help: "YAML config (default: $MOONWIRE_CONFIG, else ./Config/moonwire.yaml, else ~/.config/moonwire/moonwire.yaml).") var config: String?
    @Option(help: "paper or HOST:PORT of TWS / IB Gateway (default: the connection settings, else the built-in paper gateway).") var gateway: String?
    // `.unconditional`: `--client-id -1` reaches the range check ("must be between ...") instead
    // of ArgumentParser reading `-1` as an option and saying the value is missing.
    @Option(name: .customLong("client-id"), parsing: .unconditional, help: "API client id (default: IB_CLIENT_ID, connection.client_id, else 1).") var clientId: Int?
    @Flag(help: "Print one snapshot (once every instrument has a quote, or after 10 s) and exit.") var once = false
    @Option(parsing: .unconditional, help: "Stop after this many seconds (default: until Ctrl-C).") var seconds: Double?

    func run() async throws {
        guard !instruments.isEmpty else { throw ValidationError("name at least one instrument") }
        if let seconds { try OptionRange.check(seconds, "--seconds", 0...OptionRange.maxSeconds, exclusive: true) }
        if let clientId { try OptionRange.check(clientId, "--client-id", OptionRange.clientIds) }
        let specs: [InstrumentSpec]
        do {
            specs = try instruments.map { try InstrumentSpec.parse($0) }
        } catch let error as InstrumentSpecError {
            throw ValidationError("\(error)")
        }
        let configuration = try loadConfiguration(config: config, gateway: gateway, clientId: clientId).configuration
        let (client, server) = try await connectForData(configuration)
        let book = NIOLockedValueBox<[String: MarketQuote]>([:])
        let problems = NIOLockedValueBox<[String: String]>([:])
        for spec in specs {
            // By the contract TWS confirms (a future's or option's conId); the name as typed.
            let contract: Contract
            do {
                let resolved = try await spec.resolve(with: client)
                contract = spec.contract.secType == "CONTFUT" ? spec.contract : resolved.contract
            } catch {
                problems.withLockedValue { $0[spec.key] = "\(error)" }
                continue
            }
            let key = spec.key
            do {
                _ = try await client.subscribeQuotes(contract) { event in
                    switch event {
                    case var .quote(quote):
                        quote.symbol = key
                        book.withLockedValue { $0[key] = quote }
                    case let .failed(error):
                        problems.withLockedValue { $0[key] = "\(error)" }
                    }
                }
            } catch {
                // Left out, the row said "waiting" for ever.
                problems.withLockedValue { $0[key] = "\(error)" }
            }
        }
        let keys = specs.map(\.key)
        // What failed is said on standard error (a script reading the table from standard output
        // sees the exit status and the reason), once per instrument; the table keeps its row.
        var said: Set<String> = []
        func sayProblems() {
            for (key, problem) in problems.withLockedValue({ $0 }).sorted(by: { $0.key < $1.key }) where !said.contains(key) {
                said.insert(key)
                Console.shared.log("error: " + (problem.contains(key) ? problem : "\(key): \(problem)"))
            }
        }
        sayProblems()
        func complete() -> Bool {
            let (quotes, failed) = (book.withLockedValue { $0 }, problems.withLockedValue { $0 })
            return keys.allSatisfy { key in failed[key] != nil || quotes[key].map { $0.bid != nil || $0.last != nil } == true }
        }
        if once {
            let deadline = Date().addingTimeInterval(10)
            while !complete() && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            _ = Self.show(Self.shownTable(keys, book.withLockedValue { $0 }, problems.withLockedValue { $0 }) + "\n")
            sayProblems()
            await client.stop()
            try? await server?.shutdown()
            if !said.isEmpty { throw ExitCode(ExitStatus.failure) }
            return
        }
        if said.count == keys.count {
            // Nothing to show: no instrument is known.
            await client.stop()
            try? await server?.shutdown()
            throw ExitCode(ExitStatus.failure)
        }
        let stop = StopLatch()
        Task {
            let signal = await SignalWaiter().wait(for: [SIGINT, SIGTERM])
            stop.fire(.signal(signal))
        }
        if let seconds {
            Task {
                try? await Task.sleep(for: .seconds(seconds))
                stop.fire(.duration)
            }
        }
        let inPlace = isatty(STDOUT_FILENO) != 0
        let drawing = Task {
            var drawnLines = 0
            while !Task.isCancelled {
                let text = Self.shownTable(keys, book.withLockedValue { $0 }, problems.withLockedValue { $0 })
                let shown: Bool
                if inPlace {
                    // Up over the previous table, then draw over it.
                    shown = Self.show((drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : "") + text.split(separator: "\n", omittingEmptySubsequences: false)
                        .map { "\r\u{1B}[2K" + $0 }.joined(separator: "\n") + "\n")
                    drawnLines = text.split(separator: "\n", omittingEmptySubsequences: false).count
                } else {
                    shown = Self.show(text + "\n\n")
                }
                // Nobody reads the table any more (`| head -1` exited, the terminal closed): the
                // stream has no purpose left, and it ends as a --seconds run does.
                if !shown {
                    stop.fire(.duration)
                    return
                }
                try? await Task.sleep(for: .seconds(inPlace ? 0.5 : 1))
            }
        }
        let cause = await stop.wait()
        drawing.cancel()
        await client.stop()
        try? await server?.shutdown()
        if case let .signal(number) = cause { throw ExitCode(ExitStatus.signal(number)) }
        sayProblems()
        if !said.isEmpty { throw ExitCode(ExitStatus.failure) }
    }

    /// Writes `text` to standard output; false when its reader is gone. (`say` drops a line it
    /// cannot write, which kept the stream redrawing into a closed pipe for ever.) A full
    /// non-blocking pipe (EAGAIN) is no reader gone: the next redraw tries again.
    static func show(_ text: String) -> Bool {
        DescriptorOutput.write(text, to: STDOUT_FILENO) || errno == EAGAIN
    }

    /// The table with its control characters escaped, as every line the console shows: an
    /// instrument's name or TWS's message cannot move the cursor.
    static func shownTable(_ keys: [String], _ quotes: [String: MarketQuote], _ problems: [String: String]) -> String {
        ShownText.shown(table(keys, quotes, problems), lineBreak: "\n")
    }

    /// One table: a row per instrument; a column per field; `-` for what TWS has not sent.
    static func table(_ keys: [String], _ quotes: [String: MarketQuote], _ problems: [String: String]) -> String {
        func price(_ value: Double?) -> String {
            guard let value else { return "-" }
            return abs(value) < 10 ? String(format: "%.5f", value).replacingOccurrences(of: #"0{1,3}$"#, with: "", options: .regularExpression)
                : String(format: "%.2f", value)
        }
        // A size TWS sent: whole when an Int holds it (Int(inf) or Int(1e300) would trap).
        func size(_ value: Double?) -> String { value.map { $0.rounded() == $0 && abs($0) < 1e15 ? String(Int($0)) : String($0) } ?? "-" }
        let header = ["instrument", "bid", "ask", "last", "bid size", "ask size", "volume", "change", "change %", ""]
        var rows: [[String]] = []
        for key in keys {
            if let problem = problems[key] {
                rows.append([key, "error: " + problem] + Array(repeating: "", count: header.count - 2))
                continue
            }
            let q = quotes[key]
            let mark = q?.last ?? q.flatMap { quote in quote.bid.flatMap { bid in quote.ask.map { (bid + $0) / 2 } } }
            // A price a hair off its decimal left -0.00 here (187.64 - 187.64000000000001): signed() has no -0.
            let change = mark.flatMap { value in q?.close.map { value - $0 } }
            let percent = change.flatMap { value in q?.close.map { $0 != 0 ? TraderNumbers.signed(value / $0 * 100, 2) + "%" : "-" } } ?? "-"
            rows.append([key, price(q?.bid), price(q?.ask), price(q?.last), size(q?.bidSize), size(q?.askSize), size(q?.volume),
                         change.map { TraderNumbers.signed($0, 2) } ?? "-", percent,
                         [q?.delayed == true ? "delayed" : nil, q?.halted == true ? "HALTED" : nil, q?.stale == true ? "stale" : nil,
                          q == nil ? "waiting" : nil].compactMap { $0 }.joined(separator: " ")])
        }
        let widths = header.indices.map { column in ([header[column]] + rows.map { $0[column].hasPrefix("error: ") && column == 1 ? "" : $0[column] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            if cells.count > 1, cells[1].hasPrefix("error: ") { return cells[0].padding(toLength: widths[0], withPad: " ", startingAt: 0) + "  " + cells[1] }
            return cells.enumerated().map { column, cell in
                column == 0 || column == cells.count - 1 ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: max(widths[column] - cell.count, 0)) + cell
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}
