import Foundation
import MarketHistory
import StrategyHost

/// How `moonwire serve` listens and who may use it.
public struct ServeSettings: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// The bearer token every write needs (and every read, off loopback).
    public var token: String
    /// Made at start (printed once), not taken from `MOONWIRE_HTTP_TOKEN`.
    public var tokenGenerated: Bool
    /// Where `/api/bars` reads and stores bars, and scheduled ingest writes (`history.store`).
    public var barStore: (any BarStore)?
    public var storeName = ""
    public var ingest: HistoryIngest?
    /// Folders besides the working one that `POST /api/strategies` may load from (those of the
    /// strategies named at start).
    public var strategyFolders: [String] = []
    /// Requests per second one client address may make, and the burst allowed above it.
    public var requestsPerSecond = 50.0
    public var requestBurst = 100.0

    public init(host: String = "127.0.0.1", port: Int = 8080, token: String, tokenGenerated: Bool) {
        self.host = host
        self.port = port
        self.token = token
        self.tokenGenerated = tokenGenerated
    }

    /// Whether only this machine can connect (`127.0.0.0/8`, `::1`, `localhost`).
    public var isLoopback: Bool { Self.isLoopback(host) }

    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// `HOST:PORT`, `[IPV6]:PORT` or `PORT` (loopback); port 0 is any free one.
    public static func parseListen(_ text: String) throws(ServeSettingsError) -> (host: String, port: Int) {
        var host = "127.0.0.1"
        var portText = Substring(text)
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ServeSettingsError("--listen '\(text)': an IPv6 address goes as [ADDRESS]:PORT")
            }
            host = String(text[text.index(after: text.startIndex)..<close])
            portText = text[text.index(close, offsetBy: 2)...]
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else {
            throw ServeSettingsError("--listen '\(text)' is not HOST:PORT with a port from 0 to 65535 (e.g. 127.0.0.1:8080)")
        }
        return (host, port)
    }

    /// The token from `MOONWIRE_HTTP_TOKEN`, or a new random one.
    public static func token(environment: [String: String]) throws(ServeSettingsError) -> (token: String, generated: Bool) {
        if let given = environment["MOONWIRE_HTTP_TOKEN"] {
            guard given.count >= 16, given.allSatisfy({ $0.isASCII && !$0.isWhitespace && !$0.isNewline }) else {
                throw ServeSettingsError("MOONWIRE_HTTP_TOKEN must be at least 16 printable characters without spaces")
            }
            return (given, false)
        }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return (bytes.map { String(format: "%02x", $0) }.joined(), true)
    }
}

public struct ServeSettingsError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
