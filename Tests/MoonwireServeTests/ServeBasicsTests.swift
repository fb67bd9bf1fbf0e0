import Foundation
import Testing
@testable import MoonwireServe
@testable import StrategyHost

/// The HTTP face's pieces that decide on their own: JSON numbers and escaping, the listen
/// address, the token, the rate limit, the same-origin check, `history.ingest`.
@Suite("moonwire serve: JSON, access and settings")
struct ServeBasicsTests {
    @Test("numbers without float noise, -0 or NaN; text that cannot become markup")
    func jsonText() {
        #expect(JSONText.number(187.35999999999999).text == "187.36")
        #expect(JSONText.number(187.20000000000002).text == "187.2")
        #expect(JSONText.number(-0.0).text == "0")
        #expect(JSONText.number(10.0).text == "10")
        #expect(JSONText.number(Double.nan).text == "null")
        #expect(JSONText.number(-Double.infinity).text == "null")
        #expect(JSONText.number(1e300).text == "1e+300")
        #expect(JSONText.number(3.6e-05).text == "3.6e-05")
        let hostile = JSONText.string("<script>alert(\"x\")</script>\n\u{2028}&")
        #expect(hostile.text == #""\u003cscript\u003ealert(\"x\")\u003c/script\u003e\n\u2028\u0026""#)
        // Every text made is JSON a parser reads back to the same string.
        let parsed = try? JSONSerialization.jsonObject(with: Data(JSONText.array([hostile, .string("\u{1}")]).text.utf8)) as? [String]
        #expect(parsed == ["<script>alert(\"x\")</script>\n\u{2028}&", "\u{1}"])
    }

    @Test("--listen: host and port, IPv6 in brackets, bounds named")
    func listen() throws {
        #expect(try ServeSettings.parseListen("127.0.0.1:8080") == ("127.0.0.1", 8080))
        #expect(try ServeSettings.parseListen("[::1]:0") == ("::1", 0))
        #expect(try ServeSettings.parseListen("9000") == ("127.0.0.1", 9000))
        for bad in ["127.0.0.1:70000", "127.0.0.1:-1", "host:", ":80", "[::1]80", "127.0.0.1:9223372036854775808"] {
            #expect(throws: ServeSettingsError.self, "\(bad)") { try ServeSettings.parseListen(bad) }
        }
        #expect(ServeSettings.isLoopback("127.0.0.1") && ServeSettings.isLoopback("::1") && !ServeSettings.isLoopback("0.0.0.0"))
    }

    @Test("the token: taken from MOONWIRE_HTTP_TOKEN when long enough, else made fresh each time")
    func token() throws {
        let given = try ServeSettings.token(environment: ["MOONWIRE_HTTP_TOKEN": "0123456789abcdef"])
        #expect(given.token == "0123456789abcdef" && !given.generated)
        #expect(throws: ServeSettingsError.self) { try ServeSettings.token(environment: ["MOONWIRE_HTTP_TOKEN": "short"]) }
        #expect(throws: ServeSettingsError.self) { try ServeSettings.token(environment: ["MOONWIRE_HTTP_TOKEN": "has a space in it....."]) }
        let first = try ServeSettings.token(environment: [:]), second = try ServeSettings.token(environment: [:])
        #expect(first.generated && first.token.count == 48 && first.token != second.token)
        #expect(AccessGuard.constantTimeEqual("abc", "abc") && !AccessGuard.constantTimeEqual("abc", "abd") && !AccessGuard.constantTimeEqual("abc", "abcd"))
    }

    @Test("a client past its burst waits; another client does not")
    func rateLimit() {
        let limiter = RequestRateLimiter(perSecond: 50, burst: 100)
        for _ in 0..<100 { #expect(limiter.take("a", now: 10) == nil) }
        #expect(limiter.take("a", now: 10) == 1)
        #expect(limiter.take("b", now: 10) == nil)
        // Half a second later 25 more are allowed, not 26.
        for _ in 0..<25 { #expect(limiter.take("a", now: 10.5) == nil) }
        #expect(limiter.take("a", now: 10.5) != nil)
    }

    @Test("a write's Origin must be the server's own")
    func origin() {
        #expect(AccessGuard.sameOrigin("http://127.0.0.1:8080", host: "127.0.0.1:8080"))
        #expect(AccessGuard.sameOrigin("http://[::1]:8080", host: "[::1]:8080"))
        #expect(!AccessGuard.sameOrigin("http://evil.example", host: "127.0.0.1:8080"))
        #expect(!AccessGuard.sameOrigin("http://127.0.0.1:8081", host: "127.0.0.1:8080"))
        #expect(!AccessGuard.sameOrigin("null", host: "127.0.0.1:8080"))
        #expect(!AccessGuard.sameOrigin("http://127.0.0.1:8080", host: nil))
    }

    @Test("history.ingest: read, and every bad value named")
    func ingest() throws {
        let config = try HostConfig.load(yaml: "history:\n  ingest:\n    symbols: [AAPL, MSFT]\n    bar: 5 mins\n    every: 15 min\n    days: 3\n", source: "c.yaml")
        #expect(config.historyIngest == HistoryIngest(symbols: ["AAPL", "MSFT"], bar: "5 mins", everySeconds: 900, days: 3))
        let bad = [("symbols: []", "symbols"), ("symbols: [AAPL]\n    every: 1", "every"), ("symbols: [AAPL]\n    every: 1e300", "every"),
                   ("symbols: [AAPL]\n    days: -1", "days"), ("symbols: [AAPL]\n    when: now", "when")]
        for (body, named) in bad {
            do {
                _ = try HostConfig.load(yaml: "history:\n  ingest:\n    \(body)\n", source: "c.yaml")
                Issue.record("accepted \(body)")
            } catch let error as HostConfigError {
                #expect(error.message.contains("history.ingest.\(named)") || error.message.contains("history.ingest"), "\(error.message)")
                #expect(error.message.contains(named), "\(error.message)")
            }
        }
    }

    @Test("Host on loopback: the listen address or a loopback name, any port; nothing else")
    func host() {
        let allowed: Set<String> = ["127.0.0.1", "localhost", "::1"]
        #expect(AccessGuard.hostAllowed("127.0.0.1:8080", allowed: allowed))
        #expect(AccessGuard.hostAllowed("LOCALHOST:1", allowed: allowed))
        #expect(AccessGuard.hostAllowed("[::1]:8080", allowed: allowed))
        #expect(!AccessGuard.hostAllowed("evil.example:8080", allowed: allowed))
        #expect(!AccessGuard.hostAllowed("127.0.0.1.evil.example", allowed: allowed))
        #expect(!AccessGuard.hostAllowed(nil, allowed: allowed))
    }

    @Test("strategies added over HTTP: .lua files in the run's folders, names fit for a path")
    func strategyFolders() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mw-folders-\(UUID().uuidString)").resolvingSymlinksInPath().path
        try FileManager.default.createDirectory(atPath: folder + "/inside", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try StrategyFolders.check(folder + "/inside/a.lua", allowed: [folder]) == folder + "/inside/a.lua")
        #expect(throws: APIError.self) { try StrategyFolders.check(folder + "/../etc/x.lua", allowed: [folder]) }
        #expect(throws: APIError.self) { try StrategyFolders.check("/etc/passwd", allowed: [folder]) }
        #expect(throws: APIError.self) { try StrategyFolders.check(folder + "-other/a.lua", allowed: [folder]) }
        // A link inside that points outside is judged by where it points.
        try FileManager.default.createSymbolicLink(atPath: folder + "/inside/link.lua", withDestinationPath: "/etc/hostname")
        #expect(throws: APIError.self) { try StrategyFolders.check(folder + "/inside/link.lua", allowed: [folder]) }
        #expect(StrategyFolders.isName("sma_cross-2.v1"))
        for bad in ["", "a/b", "..", "<img src=x>", "a b", String(repeating: "x", count: 65), "é"] { #expect(!StrategyFolders.isName(bad), "\(bad)") }
    }

    @Test("at most the connection limit at once; a closed one makes room")
    func connectionLimit() {
        let limit = ConnectionLimit()
        for _ in 0..<ConnectionLimit.maximum { #expect(limit.admit()) }
        #expect(!limit.admit())
        limit.release()
        #expect(limit.admit())
    }
}
