import TWSProtocol

/// Everything a request or the connection can end in, besides a value.
public enum TWSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// TWS answered with an error code (the message is TWS's own text).
    case ib(code: Int, message: String, advancedOrderRejectJson: String)
    /// No answer in time. Nothing waits forever.
    case timeout(request: String, seconds: Double)
    /// The connection is not up (and the request is not one that waits for it).
    case notConnected
    /// The connection dropped while the request was in flight.
    case connectionLost(request: String)
    /// TWS accepted the TCP connection but never answered the handshake.
    case handshakeTimeout(host: String, port: Int, seconds: Double)
    /// The server speaks a version we do not.
    case unsupportedServerVersion(Int, reason: String)
    /// The client was stopped.
    case stopped
    /// A request that cannot be sent as given.
    case invalidRequest(String)
    /// The TCP connection itself failed (refused, unreachable, timed out).
    case cannotConnect(host: String, port: Int, reason: String)
    /// An order (or a modification) the kill switch stopped before it reached TWS: why.
    case orderGateClosed(String)
    /// A request whose answer another request under the same id now waits for (a cancel sent
    /// before TWS acknowledged the order): the order's fate comes through its events.
    case superseded(request: String, by: String)

    public var description: String {
        switch self {
        case let .ib(code, message, _): return "TWS error \(code): \(message)"
        case let .timeout(request, seconds): return "\(request): no answer from TWS within \(seconds) s"
        case .notConnected: return "not connected to TWS / IB Gateway"
        case let .connectionLost(request): return "\(request): the connection to TWS was lost before the answer came"
        case let .handshakeTimeout(host, port, seconds):
            return "TWS at \(host):\(port) accepted the connection but did not answer the API handshake within \(seconds) s. "
                + "TWS stays silent while its \"Accept incoming connection?\" dialog is open: accept it, or add 127.0.0.1 to "
                + "Trusted IPs (Global Configuration > API > Settings), and check that the API is enabled."
        case let .unsupportedServerVersion(version, reason): return "server version \(version): \(reason)"
        case .stopped: return "the TWS client was stopped"
        case let .invalidRequest(reason): return "invalid request: \(reason)"
        case let .cannotConnect(host, port, reason): return "cannot connect to \(host):\(port): \(reason)"
        case let .orderGateClosed(reason): return "not sent: \(reason)"
        case let .superseded(request, by): return "\(request): no answer awaited any more (\(by) under the same id took its place)"
        }
    }

    /// A socket error in words: `connection refused` rather than an errno dump.
    public static func describeConnectFailure(_ error: any Error) -> String {
        let text = "\(error)".lowercased()
        if text.contains("refused") { return "connection refused (nothing listens on that port)" }
        if text.contains("timed out") || text.contains("timeout") { return "no answer to the connection (timed out)" }
        if text.contains("unreachable") { return "the host is unreachable" }
        if text.contains("name") && (text.contains("resolve") || text.contains("known")) { return "the host name does not resolve" }
        return "\(error)"
    }

    /// The IB error code, when there is one.
    public var code: Int? {
        if case let .ib(code, _, _) = self { return code }
        return nil
    }
}

/// What kind of thing an IB error code is, so it reaches the right place (protocol.md §4).
public enum IBErrorCategory: Sendable, Equatable {
    /// The link between TWS and IB, or ours to TWS: 1100/1101/1102, 2103–2108, 2157/2158, 502, 504, 326.
    case connectivity
    /// The order was refused before it ever worked: 103, 110, 135, 200 on an order, 201, 434, ...
    case orderRejection
    /// A warning about a live order: it stays live (399, 2109, 10349, ...).
    case orderWarning
    /// Pacing and limits: 100, 101, 162 (pacing violation).
    case pacing
    /// A data request failed: 162 (other than pacing), 200, 300, 321, 354, 366, 10167, 10168...
    case request
    /// Farm status and other notices (2100–2169 not listed above, 10167 delayed notice...).
    case notice
    /// The order was cancelled (202): a terminal order event, not a failure of a request.
    case orderCancelled

    public static func of(code: Int, message: String = "") -> IBErrorCategory {
        switch code {
        case 1100, 1101, 1102, 1300, 2103, 2105, 2110, 2157, 502, 504, 326, 507:
            return .connectivity
        case 2104, 2106, 2107, 2108, 2119, 2158, 2100:
            return .notice
        case 100, 101:
            return .pacing
        case 162 where message.lowercased().contains("pacing"):
            return .pacing
        case 202:
            return .orderCancelled
        case 399, 2109, 10349, 161, 105, 2137:
            return .orderWarning
        case 103, 104, 110, 135, 201, 203, 434, 10147, 10148:
            return .orderRejection
        case 2100..<2200, 10167:
            return .notice
        default:
            return .request
        }
    }

    /// A connectivity code that means "the data is gone, subscribe again".
    public static func needsResubscribe(_ code: Int) -> Bool { code == 1101 || code == 1102 }
}
