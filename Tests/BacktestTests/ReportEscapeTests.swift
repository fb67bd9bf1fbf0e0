import Testing
@testable import Backtest

/// Names drawn into report.html are escaped when they hold & < >, and left as they are when not.
@Suite("The report's escaping of names")
struct ReportEscapeTests {
    @Test("& < > escaped wherever they stand; other names unchanged")
    func escaping() {
        #expect(BacktestReport.escape("x&y<img src=x onerror=alert(1)>") == "x&amp;y&lt;img src=x onerror=alert(1)&gt;")
        #expect(BacktestReport.escape("<") == "&lt;" && BacktestReport.escape(">") == "&gt;" && BacktestReport.escape("&") == "&amp;")
        #expect(BacktestReport.escape("&amp;") == "&amp;amp;")
        for name in ["AAPL", "ES 202612", "", "EUR.USD", "Ünïcode 株"] { #expect(BacktestReport.escape(name) == name) }
    }
}
