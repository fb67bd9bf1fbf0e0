/// Text from outside (what a strategy logs or raises, a cell of an imported file) made fit to
/// show on a terminal or write into a log: one function for the console, the log files and the
/// journal, so a strategy cannot move the cursor, clear the screen, or start a line that looks
/// like another strategy's, and one huge message cannot flood them.
public enum ShownText {
    /// A log line on the console shows at most this much of a message (UTF-8 bytes).
    public static let consoleLimit = 4 * 1024
    /// A log file line, and a message the journal keeps, at most this much.
    public static let logLimit = 64 * 1024

    /// `text` escaped and capped:
    /// - a control character appears as an escape: ESC `\e`, CR `\r`, NUL and the other C0
    ///   characters and DEL `\x00`...`\x7f`, C1 (U+0080...U+009F), the line and paragraph
    ///   separators and the bidirectional overrides `\u{85}`, `\u{2028}`, `\u{202e}`; a tab stays;
    /// - a line feed becomes `lineBreak` (nil: escaped as `\n`, the text stays one line);
    /// - past `limit` UTF-8 bytes of output the rest is cut and a marker says how much, and where
    ///   the whole text is when `rest` says so: `… [29.9 MB cut; the full message is in the log file]`.
    /// Costs at most `limit` (not the text's length): a 30 MB message is cut in microseconds.
    public static func shown(_ text: String, limit: Int = .max, lineBreak: String? = nil, rest: String? = nil) -> String {
        let total = text.utf8.count
        if total <= limit, !mayNeedEscape(text, keepingLineFeeds: lineBreak == "\n") { return text }
        var out = ""
        out.reserveCapacity(min(total, limit) + 64)
        var written = 0, consumed = 0
        for scalar in text.unicodeScalars {
            let escape = self.escape(scalar, lineBreak: lineBreak)
            let width = escape?.utf8.count ?? UTF8.width(scalar)
            if written + width > limit { break }
            if let escape { out += escape } else { out.unicodeScalars.append(scalar) }
            written += width
            consumed += UTF8.width(scalar)
        }
        if consumed < total { out += " … [\(size(total - consumed)) cut" + (rest.map { "; \($0)" } ?? "") + "]" }
        return out
    }

    /// `bytes` for people: `812 bytes`, `3.5 KB`, `29.9 MB`.
    public static func size(_ bytes: Int) -> String {
        func tenths(_ value: Double) -> String { "\((value * 10).rounded() / 10)" }
        if bytes < 1024 { return bytes == 1 ? "1 byte" : "\(bytes) bytes" }
        if bytes < 1024 * 1024 { return tenths(Double(bytes) / 1024) + " KB" }
        return tenths(Double(bytes) / 1_048_576) + " MB"
    }

    /// A cheap first look: false when no byte can start a character `escape` changes (a tab,
    /// and line feeds when they stay, never do). 0xC2 and 0xE2 lead C1 and U+2028 etc., and
    /// also harmless characters (°, …): those take the slow path, which leaves them alone.
    private static func mayNeedEscape(_ text: String, keepingLineFeeds: Bool) -> Bool {
        for byte in text.utf8 {
            switch byte {
            case 0x09: continue
            case 0x0A: if !keepingLineFeeds { return true }
            case 0x00...0x1F, 0x7F, 0xC2, 0xE2: return true
            default: continue
            }
        }
        return false
    }

    /// What `scalar` is shown as, or nil to show it as it is.
    private static func escape(_ scalar: Unicode.Scalar, lineBreak: String?) -> String? {
        switch scalar.value {
        case 0x09: return nil
        case 0x0A: return lineBreak ?? "\\n"
        case 0x0D: return "\\r"
        case 0x1B: return "\\e"
        case 0x00...0x1F, 0x7F: return "\\x" + hex(scalar.value, digits: 2)
        case 0x80...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: return "\\u{" + hex(scalar.value, digits: 1) + "}"
        default: return nil
        }
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
