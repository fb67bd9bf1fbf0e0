import Testing
import TWSProtocol

/// What a strategy writes reaches the console, the log files and the journal only through
/// `ShownText`: no control character arrives raw, and a line has a cap that says what it cut.
@Suite("Shown text: escaped and capped")
struct ShownTextTests {
    @Test("ESC, CR, NUL, the other C0, DEL, C1 and the line separators appear as escapes; tabs and plain text stay")
    func escapes() {
        #expect(ShownText.shown("\u{1B}[2J\rother: forged") == "\\e[2J\\rother: forged")
        #expect(ShownText.shown("a\u{0}b\u{7}c\u{7F}d") == "a\\x00b\\x07c\\x7fd")
        #expect(ShownText.shown("x\u{85}y\u{9B}z\u{2028}\u{202E}evil") == "x\\u{85}y\\u{9b}z\\u{2028}\\u{202e}evil")
        #expect(ShownText.shown("one\ttwo … 5 °C, ünïcödé 漢字 🙂") == "one\ttwo … 5 °C, ünïcödé 漢字 🙂")
        // A line feed: escaped by default, or the caller's continuation.
        #expect(ShownText.shown("a\nb") == "a\\nb")
        #expect(ShownText.shown("a\nb\r\nc", lineBreak: "\n    ") == "a\n    b\\r\n    c")
        #expect(ShownText.shown("a\nb", lineBreak: "\n") == "a\nb")
        // Escaped text has nothing left to escape: showing it twice changes nothing.
        let once = ShownText.shown("\u{1B}]0;title\u{7}\u{0}", lineBreak: "\n")
        #expect(ShownText.shown(once, lineBreak: "\n") == once)
        #expect(!once.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
    }

    @Test("past the limit the rest is cut at a character boundary, the marker saying how much and where the whole is")
    func caps() {
        let huge = String(repeating: "x", count: 30 * 1_048_576)
        let console = ShownText.shown(huge, limit: ShownText.consoleLimit, rest: "the full message is in the log file")
        #expect(console == String(repeating: "x", count: 4096) + " … [30.0 MB cut; the full message is in the log file]")
        #expect(ShownText.shown(huge, limit: ShownText.logLimit).hasSuffix("x … [29.9 MB cut]"))
        // Multi-byte characters and escapes are never split; what is counted is what is shown.
        let emoji = ShownText.shown(String(repeating: "🙂", count: 10), limit: 10)
        #expect(emoji == "🙂🙂 … [32 bytes cut]")
        let escapes = ShownText.shown(String(repeating: "\u{1B}", count: 10), limit: 5)
        #expect(escapes == "\\e\\e … [8 bytes cut]")
        #expect(ShownText.shown("short", limit: 5) == "short")
        #expect(ShownText.size(1) == "1 byte" && ShownText.size(1536) == "1.5 KB" && ShownText.size(31_352_422) == "29.9 MB")
    }
}
