import Foundation
import Logging
import LuaRuntime

/// The one line the console shows for a log entry whose message spans several lines (a
/// handler's failure with its Lua traceback), carried as metadata beside the whole message:
/// the console prints this line, while the log file, JSON lines and the journal keep the
/// whole message (they do not read this key).
public enum ConsoleLine {
    /// The metadata key of the console's line.
    public static let metadataKey = "console"

    /// The metadata that gives a log entry `line` as its console line.
    public static func metadata(_ line: String) -> Logger.Metadata { [metadataKey: .string(line)] }

    /// `on_bar failed: momentum.lua:12: attempt to index a nil value`: the handler, the first
    /// line of the message, and where in the strategy's Lua it happened. A message that names
    /// no place (`error(x, 0)`, a budget or memory stop) gets the first Lua frame of the
    /// traceback in front, in Lua's own `file:line:` form; more lines of the message are
    /// marked `…` (the log file has them).
    public static func handlerFailure(_ handler: String, _ error: LuaError) -> String {
        var message = error.message
        // By bytes: a 30 MB message is scanned without grapheme breaking.
        if let lineBreak = message.utf8.firstIndex(of: UInt8(ascii: "\n")) { message = String(message[..<lineBreak]) + " …" }
        if startsWithPosition(message) { return "\(handler) failed: \(message)" }
        guard let position = firstLuaPosition(in: error.traceback) else { return "\(handler) failed: \(message)" }
        return "\(handler) failed: \(position): \(message)"
    }

    /// `momentum.lua:12` from the first frame of a traceback that is Lua code (not `[C]`),
    /// preferring the strategy's own files to the host's Lua (`moonwire/...`).
    static func firstLuaPosition(in traceback: String) -> String? {
        var host: String?
        for line in traceback.split(separator: "\n").dropFirst() {
            let frame = line.trimmingCharacters(in: .whitespaces)
            guard let position = leadingPosition(Substring(frame)) else { continue }
            if !position.hasPrefix("moonwire/") { return position }
            if host == nil { host = position }
        }
        return host
    }

    /// Whether `message` begins `file:line: ` as Lua puts a position in front of an error.
    static func startsWithPosition(_ message: String) -> Bool {
        guard let position = leadingPosition(Substring(message)) else { return false }
        return message.dropFirst(position.count).hasPrefix(": ")
    }

    /// `file:12` from the start of `text` (`file:12: ...`), when it starts so.
    private static func leadingPosition(_ whole: Substring) -> String? {
        // A position is short: a 30 MB message is not searched for its colon.
        let text = whole.prefix(1_024)
        guard !text.hasPrefix("["), let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return nil }
        let digits = text[text.index(after: colon)...].prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, text[digits.endIndex...].hasPrefix(":") else { return nil }
        return String(text[..<digits.endIndex])
    }
}
