import Backtest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOConcurrencyHelpers
import StrategyHost
import TWSProtocol

/// A backtest's `log.txt`: the strategy's log lines (its own, and the host's about it: handler
/// failures with their whole traceback, refusals, halts) at their simulated time, in the log
/// files' text form (`2024-01-02T14:31:00.000Z INFO     backtest [momentum] ...`). Written as
/// the run goes through a buffer of at most `bufferBytes` (a strategy logging on every bar of
/// a year of minutes writes a large file, never a large array); created 0600 like the day's
/// log files. Opened with the first full buffer or at the end: a strategy that fails to load
/// leaves no folder behind for an empty log. Written into a file of this run's own, named
/// log.txt with the rest of the report (`commit`): a run that fails leaves an earlier report's
/// log.txt as it was (`settleFailed`).
final class BacktestLogFile: Sendable {
    static let name = "log.txt"
    static let bufferBytes = 64 * 1024

    let folder: URL
    var path: String { folder.appendingPathComponent(Self.name).path }
    private let partial: URL
    private struct State {
        var descriptor: Int32 = -1
        var buffer: [UInt8] = []
        /// Opening or writing failed (said once): the rest is dropped.
        var failed = false
        var closed = false
        /// This run's file was made (and is not yet named log.txt or dropped).
        var opened = false
    }
    private let state = NIOLockedValueBox(State())

    init(folder: URL) {
        self.folder = folder
        partial = PartialFile.url(of: Self.name, in: folder)
    }

    /// Names this run's file log.txt (with the rest of its report); false when that failed.
    @discardableResult
    func commit() -> Bool {
        state.withLockedValue { state in
            guard state.opened else { return true }
            state.opened = false
            return rename(partial.path, path) == 0
        }
    }

    /// A run that failed: its log becomes log.txt where no earlier report is in the folder (it
    /// says why the run failed); beside an earlier report it is dropped, the report left whole.
    func settleFailed() {
        close(keepEmpty: false)
        let earlier = FileManager.default.fileExists(atPath: folder.appendingPathComponent("summary.json").path)
        let opened = state.withLockedValue { state -> Bool in
            defer { state.opened = false }
            return state.opened
        }
        guard opened else { return }
        if earlier {
            unlink(partial.path)
            Console.shared.log("note: the failed run's log lines are not kept: \(folder.path) holds an earlier report, left as it was")
        } else {
            _ = rename(partial.path, path)
        }
    }

    /// Adds one line; a full buffer goes to the file.
    func write(_ line: String) {
        state.withLockedValue { state in
            guard !state.closed, !state.failed else { return }
            state.buffer.append(contentsOf: line.utf8)
            state.buffer.append(UInt8(ascii: "\n"))
            if state.buffer.count >= Self.bufferBytes { flush(&state) }
        }
    }

    /// Writes what is buffered and closes the file; later lines are dropped. `keepEmpty`: the
    /// file is made even when nothing was logged (a run that ended; not one that failed to start).
    func close(keepEmpty: Bool) {
        state.withLockedValue { state in
            guard !state.closed else { return }
            if keepEmpty || !state.buffer.isEmpty || state.descriptor >= 0 { flush(&state) }
            if state.descriptor >= 0 { _ = Glibc.close(state.descriptor) }
            state.descriptor = -1
            state.closed = true
        }
    }

    /// A failure (a full disk, a folder that cannot be made) is said once; the backtest goes
    /// on, its log cut short.
    private func flush(_ state: inout State) {
        defer { state.buffer.removeAll(keepingCapacity: true) }
        guard !state.failed else { return }
        if state.descriptor < 0 {
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                return fail(&state, "\(error)")
            }
            state.descriptor = open(partial.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard state.descriptor >= 0 else { return fail(&state, String(cString: strerror(errno))) }
            state.opened = true
            _ = fchmod(state.descriptor, 0o600)  // one an earlier run's umask left readable to others
        }
        let descriptor = state.descriptor
        let written = state.buffer.withUnsafeBufferPointer { DescriptorOutput.write($0, to: descriptor) }
        if !written { fail(&state, String(cString: strerror(errno))) }
    }

    private func fail(_ state: inout State, _ reason: String) {
        state.failed = true
        Console.shared.log("warning: cannot write \(path): \(reason); the backtest goes on without the rest of its log")
    }
}

/// The strategy's log lines into a `BacktestLogFile`, stamped with the backtest's simulated
/// time (`SimulatedLogTime`: the clock of the backtest on the calling thread; before the
/// backtest has set it, while the file's top level loads, the span's start).
struct BacktestLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    let label: String
    let file: BacktestLogFile
    let start: Int64

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        var text = "\(event.message)"
        if let error = event.error { text += ": \(error)" }
        let time = Date(timeIntervalSince1970: SimulatedLogTime.now ?? Double(start))
        file.write(LogFile.line(format: "text", level: event.level, label: label, strategy: all["strategy"].map { "\($0)" },
                                message: text, at: time))
    }
}
