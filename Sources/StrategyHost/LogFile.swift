import Foundation
import Logging
import NIOConcurrencyHelpers
import TWSProtocol

/// UTC with milliseconds: 2026-11-27T12:05:30.123Z (ISO8601DateFormatter is thread-safe).
nonisolated(unsafe) private let timeFormat: ISO8601DateFormatter = {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter
}()

/// open(2) for appending, creating the file 0600 (outside `LogFile`, whose `open` would shadow it).
private func appendPrivately(_ path: String) -> Int32 { open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600) }

/// Settings of the log files (`logging:` in the config).
public struct LogSettings: Sendable, Equatable {
    /// Where the files go (default: `logs/` in the data folder).
    public var folder = HostConfig.dataFolder + "/logs"
    /// A file past this size is rotated (`moonwire_2026-11-27.1.log`, `.2.log`, ...).
    public var maxMegabytes = 10.0
    /// Files older than this are deleted (at start and at each rotation).
    public var keepDays = 7.0
    public var level = Logger.Level.info
    /// `text` (one readable line an event) or `json` (one object a line).
    public var format = "text"
    public init() {}
}

/// The log files of a run: one a day (`moonwire_YYYY-MM-DD.log`), rotated by size, old ones
/// deleted. Every line has the time (ms, UTC), the level, the component and the strategy.
/// Any thread: writes are serialized by a lock. The files are the user's alone (0600, in a
/// folder made 0700): strategies log orders, positions and whatever else they like.
public final class LogFile: Sendable {
    public let settings: LogSettings
    private let state = NIOLockedValueBox<(handle: FileHandle?, path: String, size: Int, day: String)>((nil, "", 0, ""))
    /// A write failed and was said; cleared by the next write that succeeds. Only touched
    /// inside `state`'s lock.
    private let failing = NIOLockedValueBox(false)

    /// What time it is: the day a line's file is named by (a test moves it across midnight).
    let clock: @Sendable () -> Date

    public init(settings: LogSettings, clock: @escaping @Sendable () -> Date = { Date() }) throws {
        self.settings = settings
        self.clock = clock
        try FileManager.default.createDirectory(atPath: settings.folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        removeOldFiles()
    }

    /// The file being written now.
    public var currentPath: String { state.withLockedValue { $0.path } }

    static let dayFormat: DateFormatter = {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return formatter
    }()

    /// A line that is no logger's (a progress line, the summary, a warning printed as such):
    /// the file keeps it too, at `level`, under `label`.
    public func record(_ message: String, level: Logger.Level, label: String) {
        guard level >= settings.level else { return }
        write(Self.line(format: settings.format, level: level, label: label, strategy: nil, message: message, at: clock()))
    }

    public func write(_ line: String) {
        let text = line + "\n"
        let count = text.utf8.count
        state.withLockedValue { state in
            let day = Self.dayFormat.string(from: clock())
            if state.handle == nil || state.day != day || state.size + count > Int(settings.maxMegabytes * 1_048_576) {
                open(&state, day: day)
            }
            guard let handle = state.handle else { return }
            if DescriptorOutput.write(text, to: handle.fileDescriptor) {
                state.size += count
                failing.withLockedValue { $0 = false }
            } else if !failing.withLockedValue({ $0 }) {
                // Said once per failing stretch (a full disk fails every line), on standard
                // error; the run goes on (the journal, not the log, is what trading relies on).
                failing.withLockedValue { $0 = true }
                let reason = String(cString: strerror(errno))
                DescriptorOutput.write("warning: cannot write the log file \(state.path): \(reason); log lines are lost until it can be written\n",
                                       to: STDERR_FILENO)
            }
        }
    }

    /// Starts the day's file, moving a full one aside as `.N.log`.
    private func open(_ state: inout (handle: FileHandle?, path: String, size: Int, day: String), day: String) {
        try? state.handle?.close()
        let path = settings.folder + "/moonwire_\(day).log"
        let files = FileManager.default
        let size = (try? files.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        if size > 0 && size >= Int(settings.maxMegabytes * 1_048_576) {
            var number = 1
            while files.fileExists(atPath: settings.folder + "/moonwire_\(day).\(number).log") { number += 1 }
            try? files.moveItem(atPath: path, toPath: settings.folder + "/moonwire_\(day).\(number).log")
            removeOldFiles()
        }
        let handle = Self.openPrivate(path)
        let end: UInt64 = (try? handle?.seekToEnd()) ?? 0
        state = (handle, path, Int(clamping: end), day)
    }

    /// `path` for appending, created 0600; one an older version left 0644 is made 0600 too.
    static func openPrivate(_ path: String) -> FileHandle? {
        let descriptor = appendPrivately(path)
        guard descriptor >= 0 else { return nil }
        _ = fchmod(descriptor, 0o600)
        return FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }

    private func removeOldFiles() {
        let files = FileManager.default
        let cutoff = Date().addingTimeInterval(-settings.keepDays * 86_400)
        for name in (try? files.contentsOfDirectory(atPath: settings.folder)) ?? [] where name.hasPrefix("moonwire_") && name.hasSuffix(".log") {
            let path = settings.folder + "/" + name
            if let modified = try? files.attributesOfItem(atPath: path)[.modificationDate] as? Date, modified < cutoff {
                try? files.removeItem(atPath: path)
            } else {
                _ = chmod(path, 0o600)  // kept files of an older version were 0644
            }
        }
    }

    /// One line for an event, as text or JSON. What a strategy wrote is shown through
    /// `ShownText`: control characters escaped, the message capped at `limit` bytes with a
    /// marker saying how much was cut; in text, its own line breaks continue it on lines
    /// indented by four spaces, so no line a strategy writes can pass for an entry of its own.
    public static func line(format: String, level: Logger.Level, label: String, strategy: String?, message: String, at date: Date = Date(),
                     limit: Int = ShownText.logLimit) -> String {
        let time = timeFormat.string(from: date)
        let strategy = strategy.map { ShownText.shown($0) }
        if format == "json" {
            var object: [String: String] = ["time": time, "level": level.rawValue, "component": label,
                                            "message": ShownText.shown(message, limit: limit, lineBreak: "\n")]
            if let strategy { object["strategy"] = strategy }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
        let name = level.rawValue.uppercased().padding(toLength: 8, withPad: " ", startingAt: 0)
        return "\(time) \(name) \(label)" + (strategy.map { " [\($0)]" } ?? "") + " " + ShownText.shown(message, limit: limit, lineBreak: "\n    ")
    }
}

/// A swift-log handler that writes one line an event (text or JSON) into a `LogFile`, or to
/// standard error.
public struct FileLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let format: String
    /// A message is cut past this many bytes: `ShownText.logLimit` in a file, `consoleLimit` on the console.
    let limit: Int
    let sink: @Sendable (String) -> Void

    public init(label: String, file: LogFile) {
        self.label = label
        self.format = file.settings.format
        self.logLevel = file.settings.level
        self.limit = ShownText.logLimit
        self.sink = { file.write($0) }
    }

    /// JSON lines on standard error (`--log-format json`): the console's cap.
    public static func standardErrorJSON(label: String) -> FileLogHandler {
        FileLogHandler(label: label, format: "json", level: .info, limit: ShownText.consoleLimit) {
            DescriptorOutput.write($0 + "\n", to: STDERR_FILENO)
        }
    }

    init(label: String, format: String, level: Logger.Level, limit: Int = ShownText.logLimit, sink: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.limit = limit
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let strategy = all["strategy"].map { "\($0)" }
        var text = "\(event.message)"
        if let error = event.error { text += ": \(error)" }
        sink(LogFile.line(format: format, level: event.level, label: label, strategy: strategy, message: text, limit: limit))
    }
}
