import Foundation
import Logging
import MarketHistory
import NIOConcurrencyHelpers
import StrategyHost
import TWSProtocol

/// The terminal: lines on standard output (`say`), log lines on standard error, and one
/// status line kept at the bottom of a terminal (redrawn in place) that every other line
/// clears first and redraws after. Not a terminal: status lines are plain lines. Every line is
/// shown through `ShownText`: a control character (ESC, CR, ...) in it appears escaped, so
/// nothing a strategy writes can move the cursor, clear the screen or overwrite a line.
final class Console: Sendable {
    static let shared = Console()

    /// Standard error is a terminal: the status line is drawn in place.
    let statusInPlace = isatty(STDERR_FILENO) != 0
    private let state = NIOLockedValueBox<(status: String, shown: Bool)>(("", false))
    /// The day's log file, which keeps every line the console shows (`mirror`), and whether
    /// standard error carries JSON lines (`--log-format json`).
    private let file = NIOLockedValueBox<(log: LogFile?, json: Bool)>((nil, false))

    /// From now on every `say` and `log` line also goes into `log` (one log: the progress,
    /// the warnings and the summary beside the loggers' lines), and with `json` the lines on
    /// standard error are JSON like the loggers'.
    func mirror(to log: LogFile?, json: Bool) { file.withLockedValue { $0 = (log, json) } }

    /// A line on standard output (and in the log file).
    func say(_ line: String) {
        write(line, to: STDOUT_FILENO)
        file.withLockedValue { $0.log }?.record(line, level: .notice, label: "moonwire")
    }

    /// A line on standard error that no logger wrote (a warning about an order, ...), and in
    /// the log file at the level its first word says.
    func log(_ line: String) {
        let (log, json) = file.withLockedValue { $0 }
        let level: Logger.Level = line.hasPrefix("error:") ? .error : line.hasPrefix("warning:") ? .warning : .notice
        log?.record(line, level: level, label: "moonwire")
        guard json else { return write(line, to: STDERR_FILENO) }
        let message = line.hasPrefix("error: ") ? String(line.dropFirst(7)) : line.hasPrefix("warning: ") ? String(line.dropFirst(9)) : line
        write(LogFile.line(format: "json", level: level, label: "moonwire", strategy: nil, message: message, limit: ShownText.consoleLimit),
              to: STDERR_FILENO)
    }

    /// A logger's line on standard error (the log file has it from its own handler).
    func logged(_ line: String) { write(line, to: STDERR_FILENO) }

    /// A line that cannot be written (a closed pipe, a full disk) is dropped: the run goes on,
    /// and the log file keeps what the console loses.
    private func write(_ line: String, to descriptor: Int32) {
        let shown = ShownText.shown(line, lineBreak: "\n")
        state.withLockedValue { state in
            if state.shown { DescriptorOutput.write("\r\u{1B}[2K", to: STDERR_FILENO) }
            DescriptorOutput.write(shown + "\n", to: descriptor)
            if state.shown { DescriptorOutput.write(state.status, to: STDERR_FILENO) }
        }
    }

    /// Shows `line` as the status: in place on a terminal (cut to its width), else as a line.
    func status(_ text: String) {
        let line = ShownText.shown(text)
        guard statusInPlace else {
            // A plain line every so often; as JSON when standard error carries JSON.
            if file.withLockedValue({ $0.json }) { log(line) } else { logged(line) }
            return
        }
        var width = winsize()
        let columns = ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &width) == 0 && width.ws_col > 10 ? Int(width.ws_col) - 1 : 120
        let shown = line.count > columns ? String(line.prefix(columns - 1)) + "…" : line
        state.withLockedValue { state in
            state.status = shown
            state.shown = true
            DescriptorOutput.write("\r\u{1B}[2K" + shown, to: STDERR_FILENO)
        }
    }

    /// Removes the status line (before the summary).
    func clearStatus() {
        state.withLockedValue { state in
            if state.shown { DescriptorOutput.write("\r\u{1B}[2K", to: STDERR_FILENO) }
            state.shown = false
        }
    }
}

/// Writes a line to standard output at once (a test or a script may be waiting for it).
func say(_ line: String) { Console.shared.say(line) }

/// Log lines on the console: short (`12:57:01.123 momentum: bought 10 AAPL`, the level only
/// when it is not info), through the `Console` so the status line stays intact. An entry with a
/// `ConsoleLine` (a handler's failure) shows that one line instead of its whole message (the
/// traceback stays in the log file and the journal). A message's own
/// line breaks continue it on lines indented by four spaces (no line a strategy writes can pass
/// for an entry of its own), its control characters are escaped, and past
/// `ShownText.consoleLimit` it is cut, saying how much and whether the log file has it all.
struct ConsoleLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    let label: String
    /// The run's log file, which keeps more of a long message than the console shows.
    let logFile: LogFile?
    /// `--quiet`: nothing below warning, whatever level a logger asks for.
    var floor: Logger.Level = .trace
    /// A backtest's clock (nil where none runs on the logging thread): its lines say the
    /// simulated time they were written at, as log.txt does, not the wall clock's.
    var simulatedTime: (@Sendable () -> Double?)?
    private var level: Logger.Level = .info
    var logLevel: Logger.Level {
        get { level }
        set { level = max(newValue, floor) }
    }

    init(label: String, floor: Logger.Level = .trace, logFile: LogFile? = nil) {
        self.label = label
        self.logFile = logFile
        self.floor = floor
        self.level = max(.info, floor)
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    static let timeFormat: DateFormatter = {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss.SSS"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return formatter
    }()

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let who = all["strategy"].map { "\($0)" } ?? label
        var whole = "\(event.message)"
        if let error = event.error { whole += ": \(error)" }
        // An entry that brings its own console line (a handler's failure: one line, the
        // traceback left to the log file) is shown by it.
        let text = all[ConsoleLine.metadataKey].map { "\($0)" } ?? whole
        let level = event.level == .info || event.level == .notice ? "" : "\(event.level.rawValue) "
        let shown = ShownText.shown(text, limit: ShownText.consoleLimit, lineBreak: "\n    ", rest: rest(of: whole, at: event.level))
        // One word, as the wall clock's: `2024-01-02T14:31:00Z`.
        let stamp = simulatedTime?().flatMap { Int64(exactly: $0.rounded(.down)) }.map { UTCTime.iso($0).replacingOccurrences(of: " ", with: "T") + "Z" }
            ?? Self.timeFormat.string(from: Date())
        Console.shared.logged("\(stamp) \(level)\(ShownText.shown(who)): \(shown)")
    }

    /// Where a message cut on the console can be read whole (nil: nowhere).
    private func rest(of text: String, at level: Logger.Level) -> String? {
        guard let logFile, level >= logFile.settings.level else { return nil }
        // Escaping can make a text up to four times longer: below a quarter of the log's cap it
        // certainly fits whole.
        return text.utf8.count <= ShownText.logLimit / 4 ? "the full message is in the log file"
            : "the log file keeps up to \(ShownText.size(ShownText.logLimit)) of it"
    }
}
