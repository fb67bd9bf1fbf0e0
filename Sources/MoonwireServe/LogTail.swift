import Foundation
import Logging
import NIOConcurrencyHelpers

/// The run's newest log lines, kept for `/api/log` and handed to the event stream as they
/// come: a `LogHandler` beside the console's and the log file's (the same lines).
public final class LogTail: Sendable {
    public static let capacity = 1000

    public struct Line: Sendable {
        public var time: Date
        public var level: Logger.Level
        public var source: String
        public var message: String

        var json: JSONText {
            .object([("time", RecordJSON.time(time.timeIntervalSince1970)), ("level", .string(level.rawValue)),
                     ("source", .string(source)), ("message", .string(message))])
        }
    }

    private let state = NIOLockedValueBox<(lines: [Line], start: Int, listener: (@Sendable (Line) -> Void)?)>(([], 0, nil))

    public init() {}

    func append(_ line: Line) {
        let listener = state.withLockedValue { state -> (@Sendable (Line) -> Void)? in
            if state.lines.count < Self.capacity {
                state.lines.append(line)
            } else {
                state.lines[state.start] = line
                state.start = (state.start + 1) % Self.capacity
            }
            return state.listener
        }
        listener?(line)
    }

    /// The newest `count` lines, oldest first.
    func newest(_ count: Int) -> [Line] {
        state.withLockedValue { state in
            let ordered = Array(state.lines[state.start...] + state.lines[..<state.start])
            return Array(ordered.suffix(count))
        }
    }

    /// Who hears each line as it is logged (the event stream); one.
    func listen(_ listener: @escaping @Sendable (Line) -> Void) { state.withLockedValue { $0.listener = listener } }

    /// A handler for `LoggingSystem.bootstrap`, writing here.
    public func handler(label: String) -> some LogHandler { LogTailHandler(label: label, tail: self) }
}

struct LogTailHandler: LogHandler {
    let label: String
    let tail: LogTail
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let who = all["strategy"].map { "\($0)" } ?? label
        var text = "\(event.message)"
        if let error = event.error { text += ": \(error)" }
        tail.append(LogTail.Line(time: Date(), level: event.level, source: who, message: text))
    }
}
