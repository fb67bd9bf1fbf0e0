import Foundation
import Money
import MarketHistory
import NIOConcurrencyHelpers
import StrategyHost
import TWSProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A backtest's files: the summary (text and JSON), trades, fills and equity as CSV, and a
/// self-contained HTML report (no network: its data and drawing code are inside it).
public enum BacktestReport {
    /// Writes every file into `folder` (created); returns their paths. `equity`: equity.csv as
    /// the run wrote it so far (`EquityCSVFile`), finished here.
    @discardableResult
    public static func write(_ result: BacktestResult, data: BacktestData, to folder: URL, equity: EquityCSVFile? = nil) throws -> [String] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // Each made and written in turn, from its bytes without a copy into a Data.
        let files: [(String, @Sendable () -> [UInt8])] = [
            ("summary.txt", { Array((summary(result, data: data).joined(separator: "\n") + "\n").utf8) }),
            ("trades.csv", { tradesCSV(result.trades) }),
            ("fills.csv", { fillsCSV(result.fills) }),
            ("report.html", { Array(html(result, data: data).utf8) }),
        ]
        // equity.csv, a row per bar (37 MB over a million bars), finished, and each other file
        // made and written, all at once on the cores there are (the report is most of what is
        // left to wait for once the bars are done). Each into a file of this run's own; all
        // are named only once every one is written (a failure leaves the folder as it was, not
        // half this report and half an earlier one's).
        precondition(equity.map { $0.folder == folder } ?? true, "equity.csv streamed into another folder than the report's")
        let equityFile = equity ?? EquityCSVFile(folder: folder)
        let writeEquity: @Sendable () throws -> Void = { try equityFile.complete(result.equity) }
        let staged = files.map { name, _ in (partial: PartialFile.url(of: name, in: folder), final: folder.appendingPathComponent(name)) }
        let write: @Sendable (Int) throws -> Void = { index in
            try Self.writeFile(files[index].1(), to: staged[index].partial)
        }
        // Each part's error, by part (equity.csv first, then the files in order): the first
        // part's is said when several fail.
        let failures = NIOLockedValueBox<[Int: any Error]>([:])
        DispatchQueue.concurrentPerform(iterations: 1 + files.count) { part in
            do { try part == 0 ? writeEquity() : write(part - 1) } catch { failures.withLockedValue { $0[part] = error } }
        }
        if let error = failures.withLockedValue({ errors in errors.keys.min().flatMap { errors[$0] } }) {
            equityFile.abandon()
            for file in staged { unlink(file.partial.path) }
            throw error
        }
        try equityFile.commit()
        for file in staged where rename(file.partial.path, file.final.path) != 0 { throw BacktestOutputError(file.final, errno: errno) }
        var paths = [equityFile.url.path] + files.map { folder.appendingPathComponent($0.0).path }
        let json = folder.appendingPathComponent("summary.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // JSON has no infinity: a sum that overflowed is written as text, never a lost report.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try encoder.encode(SummaryJSON(metrics: written(result.metrics), run: RunDescription(result, data: data))).write(to: json, options: .atomic)
        paths.append(json.path)
        return paths
    }

    /// `bytes` as the file at `url` (made 0644, or emptied), by the system's calls, so a
    /// failure says its reason (`file too large`, `no space left on device`), not a Foundation
    /// error's number.
    static func writeFile(_ bytes: [UInt8], to url: URL) throws {
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw BacktestOutputError(url, errno: errno) }
        var failure: Int32 = bytes.withUnsafeBufferPointer { DescriptorOutput.write($0, to: descriptor) } ? 0 : errno
        if close(descriptor) != 0, failure == 0 { failure = errno }
        if failure != 0 { throw BacktestOutputError(url, errno: failure) }
    }

    // MARK: Text

    /// A CSV cell: quoted (quotes doubled) when it holds a comma, a quote or a line end.
    public static func csvCell(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `-12,345.60`; `grouped: false` writes `-12345.60`, as TWS writes account values.
    public static func money(_ value: Double, grouped: Bool = true) -> String {
        // Cents past 9e18 do not fit an Int64 (and NaN or infinity never do): no trap, the plain number.
        guard value.isFinite, abs(value) < 9e16 else { return value.isFinite ? String(format: "%.2f", value) : "n/a" }
        let cents = Int64((abs(value) * 100).rounded())
        let sign = value < 0 && cents > 0 ? "-" : ""
        var whole = String(cents / 100)
        var groups = ""
        while grouped && whole.count > 3 {
            groups = "," + whole.suffix(3) + groups
            whole = String(whole.dropLast(3))
        }
        let fraction = cents % 100
        return "\(sign)\(whole)\(groups).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    public static func percent(_ value: Double?) -> String { value.map { fixed($0 * 100, 2) + " %" } ?? "n/a" }
    public static func ratio(_ value: Double?) -> String { value.map { fixed($0, 2) } ?? "n/a" }

    /// `value` with `digits` decimals, never `-0.00`: a loss of 0.004 (or a return of
    /// -0.000004 %) rounds to nothing, which has no sign.
    public static func fixed(_ value: Double, _ digits: Int) -> String {
        // Two decimals (money in every CSV row) by integer arithmetic where it agrees with "%.2f".
        if digits == 2, let (negative, magnitude) = CSVByteWriter.wholeCents(value) {
            let fraction = magnitude % 100
            return (negative ? "-" : "") + String(magnitude / 100) + (fraction < 10 ? ".0" : ".") + String(fraction)
        }
        return formatted(value, digits)
    }

    /// `fixed` by `String(format:)`, the reference its fast path is tested against.
    static func formatted(_ value: Double, _ digits: Int) -> String {
        let text = String(format: "%.\(digits)f", value)
        guard text.hasPrefix("-"), text.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) else { return text }
        return String(text.dropFirst())
    }

    /// The summary lines `moonwire backtest` prints (and summary.txt holds).
    public static func summary(_ result: BacktestResult, data: BacktestData) -> [String] {
        let m = result.metrics
        let setup = data.setup
        var lines: [String] = []
        let instruments = data.series.map(\.key).joined(separator: ", ")
        lines.append("\(setup.name) on \(instruments), \(setup.barSize) \(setup.what) bars, \(UTCTime.day(setup.span.start)) to "
                     + "\(UTCTime.day(setup.span.end - 1))" + (result.params.isEmpty ? "" : " (\(paramText(result.params)))"))
        lines.append("  fills: \(setup.rules.timing == .nextBarOpen ? "next bar's open" : "same bar's close"), slippage \(setup.rules.slippageTicks) tick(s), "
                     + "commission \(commissionText(setup.rules.commission))")
        // What every unit was worth: a wrong multiplier or currency is the first thing to see.
        let terms = data.series.map { series -> String in
            let t = series.resolved.terms
            return "\(series.key) (\(t.secType), \(t.currency), multiplier \(number(t.multiplier))"
                + (series.tickSize.map { ", tick \(number($0))" } ?? "") + ")"
        }
        lines.append("  instruments: " + terms.joined(separator: "; "))
        if !data.rates.isEmpty {
            let sources = data.rates.map { "\($0.currency) from stored \($0.source.instrument) bars" }.joined(separator: ", ")
            lines.append("  money: in \(setup.baseCurrency.uppercased()) (the base currency); \(sources)")
        }
        if result.interrupted { lines.append("  INTERRUPTED after \(m.barsProcessed) bars: the figures cover only those") }
        if let paused = result.pausedReason {
            lines.append("  PAUSED: the strategy was \(ShownText.shown(paused, limit: 300)); the figures after that are of a strategy that did nothing")
        } else if let failed = result.noResultReason {
            lines.append("  FAILED: \(ShownText.shown(failed, limit: 300)); what it sets up there may not be, so these figures are not its")
        }
        func row(_ label: String, _ value: String) -> String { "  " + label.padding(toLength: 20, withPad: " ", startingAt: 0) + value }
        let base = setup.baseCurrency.uppercased()
        lines.append(row("net PnL", "\(money(m.netPnL)) (\(percent(m.totalReturn)) of \(money(m.initialCash)) \(base))"))
        lines.append(row("CAGR", percent(m.cagr)))
        lines.append(row("Sharpe / Sortino", "\(ratio(m.sharpe)) / \(ratio(m.sortino)) (daily returns, annualized)"))
        var drawdown = "\(money(m.maxDrawdown)) (\(percent(m.maxDrawdownFraction)))"
        if let peak = m.drawdownPeak, let trough = m.drawdownTrough {
            drawdown += " from \(UTCTime.iso(peak, seconds: false)) to \(UTCTime.iso(trough, seconds: false)) UTC"
        }
        lines.append(row("max drawdown", drawdown))
        // Break-even trades apart: neither a win nor a loss (within BacktestMetrics.breakEvenTolerance).
        let outcomes = m.trades > 0 ? " (\(m.wins) won, \(m.losses) lost, \(m.evens) even)" : ""
        lines.append(row("trades", "\(m.trades) closed" + (m.openTrades > 0 ? ", \(m.openTrades) open at the end" : "")
                         + ", win rate \(percent(m.winRate))\(outcomes), profit factor \(ratio(m.profitFactor))"))
        lines.append(row("exposure", percent(m.exposure) + " of bar times holding a position"))
        lines.append(row("commissions", money(m.commissions) + " \(base) over \(m.fills) fills"))
        // Its handlers' failures apart from the rest on_error was told of (refusals, halts,
        // rejections): those are not errors of its code. A failure is told to on_error too.
        let stats = result.statistics
        let others = max(0, stats.errors - stats.handlerFailures)
        let told = others == 0 ? "" : others == 1 ? ", 1 refusal, halt or rejection told to on_error" : ", \(others) refusals, halts or rejections told to on_error"
        let failed = stats.handlerFailures == 0 ? "" : stats.handlerFailures == 1 ? ", 1 handler failure" : ", \(stats.handlerFailures) handler failures"
        lines.append(row("bars processed", "\(m.barsProcessed)" + told + failed))
        let gaps = data.series.flatMap { series in series.gaps.map { (series.key, $0) } }
        if gaps.isEmpty {
            lines.append(row("data gaps", "none (the store covers the whole span)"))
        } else {
            lines.append(row("data gaps", "\(gaps.count) span(s) never downloaded:"))
            for (key, gap) in gaps.prefix(10) { lines.append("    \(key): \(gap)") }
            if gaps.count > 10 { lines.append("    ... and \(gaps.count - 10) more") }
        }
        let balances = result.cashByCurrency.filter { abs($0.value) >= 0.005 }
        if balances.keys.contains(where: { $0 != base }) {
            let text = balances.sorted { $0.key < $1.key }.map { "\($0.key) \(money($0.value))" }.joined(separator: ", ")
            lines.append("  cash at the end: \(text) (other currencies counted in \(base) at the last rate: part of the net PnL, not of the trades)")
        }
        for (key, quantity) in result.openPositions.sorted(by: { $0.key < $1.key }) {
            lines.append("  open at the end: \(key) \(quantity.rounded() == quantity && abs(quantity) < 1e15 ? String(Int(quantity)) : String(quantity)) (marked at the last close)")
        }
        if result.statistics.ordersRefused > 0 || result.ordersRejected > 0 {
            lines.append("  orders refused by the risk gate: \(result.statistics.ordersRefused), rejected by the simulated broker: \(result.ordersRejected)")
        }
        for notice in result.notices { lines.append("  note: \(notice)") }
        if result.journalCount > 0 {
            lines.append("  \(result.journalCount) error(s), refusal(s) or halt(s); the first:")
            for entry in result.journal.prefix(3) { lines.append("    \(entry.split(separator: "\n").first ?? "")") }
        }
        return lines
    }

    static func paramText(_ params: [String: String]) -> String {
        params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }

    static func commissionText(_ model: CommissionSchedule) -> String { model.summary }

    // MARK: JSON

    /// The metrics as summary.json holds them: without arithmetic noise. The encoder already
    /// writes each double's shortest round-trip form, but the doubles themselves carry the
    /// sums' rounding (`"netPnL" : 3.599999999991269`, `"finalEquity" : 100003.59999999999`
    /// for 3.60 made on 100,000); a script comparing a figure to the summary's would see them.
    static func written(_ m: BacktestMetrics) -> BacktestMetrics {
        var m = m
        m.initialCash = amount(m.initialCash)
        m.finalEquity = amount(m.finalEquity)
        m.netPnL = amount(m.netPnL)
        m.maxDrawdown = amount(m.maxDrawdown)
        m.commissions = amount(m.commissions)
        m.totalReturn = m.totalReturn.map(figure)
        m.cagr = m.cagr.map(figure)
        m.sharpe = m.sharpe.map(figure)
        m.sortino = m.sortino.map(figure)
        m.maxDrawdownFraction = m.maxDrawdownFraction.map(figure)
        m.profitFactor = m.profitFactor.map(figure)
        m.winRate = m.winRate.map(figure)
        m.exposure = figure(m.exposure)
        return m
    }

    /// An amount of money to the millionth (finer than any commission or price step; the noise
    /// of a sum of many bars' equity stays far below it): `100003.6`, not `100003.59999999999`.
    /// From a billion up a double has no millionths to spare: 15 significant digits there.
    public static func amount(_ value: Double) -> Double {
        guard value.isFinite else { return value }
        // n / 1e6 (both exact) is the double nearest that decimal, which prints as it.
        let cleaned = abs(value) < 1e9 ? (value * 1e6).rounded() / 1e6 : significant(value, 15)
        return cleaned == 0 ? 0 : cleaned  // no -0
    }

    /// A ratio (a return, a Sharpe ratio, a win rate) to 10 significant digits: more than any
    /// reading of it needs, and clear of the noise its money carries in (3.6 / 100,000 was
    /// `3.599999999992498e-05`; it is `3.6e-05`).
    public static func figure(_ value: Double) -> Double {
        guard value.isFinite else { return value }
        let cleaned = significant(value, 10)
        return cleaned == 0 ? 0 : cleaned
    }

    /// `figure` as text for a CSV cell: its shortest round-trip decimal.
    public static func figureText(_ value: Double) -> String { "\(figure(value))" }

    private static func significant(_ value: Double, _ digits: Int) -> Double {
        Double(String(format: "%.\(digits)g", value)) ?? value
    }

    // MARK: CSV

    /// A whole number without a fraction, else the shortest decimal that stands for it (`101`,
    /// `98.5`, `187.64`): a price computed as ticks × tick size is a hair off its decimal
    /// (187.64000000000001), and 15 significant digits are all a double holds faithfully.
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return String(value) }
        if value.rounded() == value && abs(value) < 1e15 { return String(Int64(value)) }
        // A price in whole cents (most of them), without formatting and parsing: its digits,
        // trailing zero dropped, are what the general way below gives it.
        let cents = (value * 100).rounded()
        if abs(value) < 1e13 && cents / 100 == value {
            let magnitude = Int64(cents).magnitude, fraction = magnitude % 100
            let digits = fraction % 10 == 0 ? String(fraction / 10) : (fraction < 10 ? "0" : "") + String(fraction)
            return (value < 0 ? "-" : "") + String(magnitude / 100) + "." + digits
        }
        return shortest(value)
    }

    /// `number` of a fraction in the general way, the reference its fast path is tested against.
    static func shortest(_ value: Double) -> String { String(Double(String(format: "%.15g", value)) ?? value) }

    // trades.csv and fills.csv have a row per trade and per fill (tens of thousands in a
    // long run): written as bytes, with no array of cells and no joined string per row.
    static func tradesCSV(_ trades: [BacktestTrade]) -> [UInt8] {
        var csv = CSVByteWriter(header: "instrument,direction,quantity,entry_time,entry_price,exit_time,exit_price,commission,pnl",
                                expectedRows: trades.count)
        for t in trades {
            csv.text(csvCell(t.instrument))
            csv.text(t.direction > 0 ? ",long," : ",short,")
            csv.text(number(t.quantity))
            csv.comma()
            csv.time(t.entryTime)
            csv.comma()
            csv.text(number(t.entryPrice))
            csv.comma()
            if let exit = t.exitTime { csv.time(exit) }
            csv.comma()
            if let price = t.exitPrice { csv.text(number(price)) }
            csv.comma()
            csv.cents(t.commission) { fixed($0, 2) }
            csv.comma()
            csv.cents(t.pnl) { fixed($0, 2) }
            csv.endRow()
        }
        return csv.bytes
    }

    static func fillsCSV(_ fills: [BacktestFill]) -> [UInt8] {
        var csv = CSVByteWriter(header: "time,order_id,instrument,side,quantity,price,commission", expectedRows: fills.count)
        for f in fills {
            csv.time(f.time)
            csv.comma()
            csv.text(String(f.orderId))
            csv.comma()
            csv.text(csvCell(f.instrument))
            csv.text(f.buy ? ",BUY," : ",SELL,")
            csv.text(number(f.quantity))
            csv.comma()
            csv.text(number(f.price))
            csv.comma()
            csv.cents(f.commission) { fixed($0, 2) }
            csv.endRow()
        }
        return csv.bytes
    }

    static func equityCSV(_ equity: [EquityPoint]) -> [UInt8] {
        var all: [UInt8] = []
        equityCSV(equity, part: .max) { all += $0 }
        return all
    }

    static let equityHeader = "time,equity,drawdown,invested"

    /// equity.csv's bytes, handed to `sink` in parts of about `part` bytes.
    static func equityCSV(_ equity: [EquityPoint], part: Int, sink: ([UInt8]) throws -> Void) rethrows {
        var csv = CSVByteWriter(header: equityHeader, expectedRows: min(equity.count, part / 40 + 1))
        var peak = -Double.infinity
        try equityRows(equity[...], peak: &peak, into: &csv, part: part, sink: sink)
        try csv.drain(sink)
    }

    /// The rows of `points`, the drawdown from `peak` (the highest equity before them, moved
    /// on), handed to `sink` whenever `part` bytes are waiting.
    static func equityRows(_ points: ArraySlice<EquityPoint>, peak: inout Double, into csv: inout CSVByteWriter, part: Int,
                           sink: ([UInt8]) throws -> Void) rethrows
    {
        for point in points {
            if csv.bytes.count >= part { try csv.drain(sink) }
            peak = max(peak, point.equity)
            csv.time(point.time)
            csv.comma()
            csv.cents(point.equity) { fixed($0, 2) }
            csv.comma()
            csv.cents(peak - point.equity) { fixed($0, 2) }
            csv.text(point.invested ? ",1" : ",0")
            csv.endRow()
        }
    }

    // MARK: HTML

    /// At most `limit` of `count` points (and the first and the last), keeping each bucket's
    /// first lowest and first highest (a curve drawn from them keeps every drawdown's depth),
    /// and the first and last points themselves (it starts where the run started and ends at
    /// the final equity the summary says). The points are made one at a time, in order, by
    /// `point`: a million bars' curve is never a whole array beside the bars.
    static func thin(_ count: Int, limit: Int, _ point: (Int) -> (Int64, Double)) -> [(Int64, Double)] {
        guard count > limit, limit >= 4 else { return (0..<count).map(point) }
        let bucket = (count + limit / 2 - 1) / (limit / 2)
        var out: [(Int64, Double)] = []
        out.reserveCapacity(limit + 4)
        var start = 0
        while start < count {
            let end = min(start + bucket, count)
            var low = (start, point(start)), high = low
            for index in (start + 1)..<end {
                let next = point(index)
                if next.1 < low.1.1 { low = (index, next) }
                if high.1.1 < next.1 { high = (index, next) }
            }
            var kept = low.0 <= high.0 ? [low, high] : [high, low]
            if start == 0, kept[0].0 != 0 { kept.insert((0, point(0)), at: 0) }
            if end == count, kept[kept.count - 1].0 != count - 1 { kept.append((count - 1, point(count - 1))) }
            var last = -1
            for (index, value) in kept where index != last {
                out.append(value)
                last = index
            }
            start = end
        }
        return out
    }

    static func json(_ points: [(Int64, Double)]) -> String {
        "[" + points.map { "[\($0.0),\(fixed($0.1, 4))]" }.joined(separator: ",") + "]"
    }

    static func escape(_ text: String) -> String {
        // Most names have nothing to escape: returned as they are, without Foundation's three
        // searches (thousands of fills and trades are drawn: that was 20 ms after every run).
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") }) else { return text }
        return text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    public static func html(_ result: BacktestResult, data: BacktestData) -> String {
        let points = result.equity
        let equity = thin(points.count, limit: 2_000) { (points[$0].time, points[$0].equity) }
        var peak = -Double.infinity
        let drawdown = thin(points.count, limit: 2_000) { index -> (Int64, Double) in
            peak = max(peak, points[index].equity)
            return (points[index].time, points[index].equity - peak)
        }
        let prices = data.series.map { series in
            let bars = series.bars, seconds = Int64(series.barSeconds)
            let closes = thin(bars.count, limit: 1_500) { (bars[$0].time + seconds, bars[$0].close) }
            return "{\"key\":\"\(escape(series.key))\",\"bars\":\(json(closes))}"
        }
        // The first 2,000 fills are drawn (a page stays light), and the heading says so.
        let drawnFills = 2_000
        let fillsNote = result.fills.count > drawnFills ? ", the first 2,000 of \(result.fills.count) fills drawn; all in fills.csv" : ""
        let markers = result.fills.prefix(drawnFills).map {
            "[\"\(escape($0.instrument))\",\($0.time),\(number($0.price)),\($0.buy ? 1 : 0)]"
        }
        let tradeRows = result.trades.prefix(500).map { t in
            "<tr><td>\(escape(t.instrument))</td><td>\(t.direction > 0 ? "long" : "short")</td><td>\(number(t.quantity))</td>"
                + "<td>\(UTCTime.iso(t.entryTime, seconds: false))</td><td>\(number(t.entryPrice))</td>"
                + "<td>\(t.exitTime.map { UTCTime.iso($0, seconds: false) } ?? "open")</td><td>\(t.exitPrice.map(number) ?? "")</td>"
                + "<td class=\"\(t.pnl >= 0 ? "up" : "down")\">\(money(t.pnl))</td></tr>"
        }.joined(separator: "\n")
        let summary = escape(summary(result, data: data).joined(separator: "\n"))
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <title>Backtest: \(escape(data.setup.name))</title>
            <style>
            body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d1d1f; }
            h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
            pre { background: #f5f5f7; padding: 12px; overflow-x: auto; }
            svg { width: 100%; height: 260px; background: #fbfbfd; border: 1px solid #e5e5ea; }
            table { border-collapse: collapse; } td, th { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: right; }
            .up { color: #137333; } .down { color: #c5221f; } .axis { font-size: 11px; fill: #6e6e73; }
            </style></head>
            <body data-rendered="no">
            <h1>Backtest: \(escape(data.setup.name))</h1>
            <pre id="summary">\(summary)</pre>
            <h2>Equity</h2><svg id="equity" viewBox="0 0 1000 260" preserveAspectRatio="none"></svg>
            <h2>Drawdown</h2><svg id="drawdown" viewBox="0 0 1000 260" preserveAspectRatio="none"></svg>
            <div id="prices"></div>
            <h2>Trades\(result.trades.count > 500 ? " (the first 500 of \(result.trades.count); all in trades.csv)" : "")</h2>
            <table id="trades"><tr><th>instrument</th><th>side</th><th>qty</th><th>entry (UTC)</th><th>price</th><th>exit (UTC)</th><th>price</th><th>PnL</th></tr>
            \(tradeRows)
            </table>
            <script>
            const equity = \(json(equity));
            const drawdown = \(json(drawdown));
            const prices = [\(prices.joined(separator: ","))];
            const fills = [\(markers.joined(separator: ","))];
            const NS = "http://www.w3.org/2000/svg";
            function el(name, attrs, parent) {
              const node = document.createElementNS(NS, name);
              for (const k in attrs) node.setAttribute(k, attrs[k]);
              parent.appendChild(node);
              return node;
            }
            function day(t) { return new Date(t * 1000).toISOString().slice(0, 16).replace("T", " "); }
            // Draws points [[time, value]] as a line; returns the scales for markers.
            function chart(svg, points, color, fill) {
              if (points.length === 0) { el("text", {x: 20, y: 130, class: "axis"}, svg).textContent = "no data"; return null; }
              const t0 = points[0][0], t1 = Math.max(points[points.length - 1][0], t0 + 1);
              let lo = Math.min(...points.map(p => p[1])), hi = Math.max(...points.map(p => p[1]));
              if (hi === lo) { hi += 1; lo -= 1; }
              const x = t => 50 + (t - t0) / (t1 - t0) * 940, y = v => 240 - (v - lo) / (hi - lo) * 220;
              const d = points.map((p, i) => (i ? "L" : "M") + x(p[0]).toFixed(1) + " " + y(p[1]).toFixed(1)).join(" ");
              if (fill) el("path", {d: d + ` L ${x(points[points.length - 1][0]).toFixed(1)} ${y(0)} L ${x(t0)} ${y(0)} Z`, fill: fill, stroke: "none"}, svg);
              el("path", {d: d, fill: "none", stroke: color, "stroke-width": 1.5, "vector-effect": "non-scaling-stroke"}, svg);
              el("text", {x: 4, y: 22, class: "axis"}, svg).textContent = hi.toFixed(2);
              el("text", {x: 4, y: 244, class: "axis"}, svg).textContent = lo.toFixed(2);
              el("text", {x: 50, y: 256, class: "axis"}, svg).textContent = day(t0);
              el("text", {x: 880, y: 256, class: "axis"}, svg).textContent = day(t1);
              return {x: x, y: y};
            }
            chart(document.getElementById("equity"), equity, "#0a66c2");
            chart(document.getElementById("drawdown"), drawdown, "#c5221f", "rgba(197,34,31,0.15)");
            const holder = document.getElementById("prices");
            for (const series of prices) {
              const h = document.createElement("h2");
              h.textContent = series.key + ": price and fills (▲ buy, ▼ sell\(fillsNote))";
              holder.appendChild(h);
              const svg = el("svg", {viewBox: "0 0 1000 260", preserveAspectRatio: "none", class: "price"}, holder);
              const scale = chart(svg, series.bars, "#444");
              if (!scale) continue;
              for (const f of fills.filter(f => f[0] === series.key)) {
                const x = scale.x(f[1]), y = scale.y(f[2]);
                const up = f[3] === 1;
                el("path", {class: up ? "buy" : "sell", d: up ? `M ${x} ${y} l -5 9 l 10 0 Z` : `M ${x} ${y} l -5 -9 l 10 0 Z`,
                            fill: up ? "#137333" : "#c5221f"}, svg);
              }
            }
            document.body.dataset.rendered = "ok";
            </script>
            </body></html>

            """
    }
}
