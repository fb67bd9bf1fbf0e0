import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers

/// Who may do what: writes need the token everywhere (another user of the machine reaches a
/// loopback port too), reads need it off loopback; a write from a page of another origin is
/// refused; each client address is held to a request rate. No CORS header is ever sent, so a
/// page elsewhere cannot read an answer.
struct AccessGuard: RouterMiddleware {
    typealias Context = ServeContext
    let token: String
    let readsNeedToken: Bool
    /// On loopback, the names a request's Host may carry (nil: any, as off loopback every
    /// request needs the token anyway).
    let allowedHosts: Set<String>?
    let limiter: RequestRateLimiter
    let counted: @Sendable (Int) -> Void

    func handle(_ request: Request, context: ServeContext, next: (Request, ServeContext) async throws -> Response) async throws -> Response {
        do {
            let response = try await checked(request, context: context, next: next)
            counted(response.status.code)
            return response
        } catch let error as APIError {
            counted(error.status.code)
            throw error
        }
    }

    private func checked(_ request: Request, context: ServeContext, next: (Request, ServeContext) async throws -> Response) async throws -> Response {
        var context = context
        let client = context.remoteAddress?.ipAddress ?? "?"
        context.hasToken = Self.presentedToken(request).map { Self.constantTimeEqual($0, token) } ?? false
        // Token holders have a budget of their own: another user of the machine flooding
        // the loopback address cannot starve the owner's halt.
        if let wait = limiter.take(context.hasToken ? "token" : client) {
            var error = APIError(.tooManyRequests, "rate_limited", "more than \(Int(limiter.perSecond)) requests per second from \(client): wait \(wait) s")
            error.headers[.retryAfter] = String(wait)
            throw error
        }
        // DNS rebinding: a page of evil.example resolving to 127.0.0.1 sends its own Host.
        if let allowedHosts, !Self.hostAllowed(request.head.authority, allowed: allowedHosts) {
            throw APIError(.misdirectedRequest, "wrong_host", "this server answers to \(allowedHosts.sorted().joined(separator: ", ")), not \(request.head.authority ?? "no Host")")
        }
        let path = request.uri.path
        let isPage = request.method == .get && (path == "/" || path == "/favicon.ico")
        let isWrite = request.method != .get && request.method != .head
        // The event stream carries everything (account, orders, the log): a page elsewhere can
        // open a WebSocket to any address, so it needs the token and the same origin, always.
        let isStream = path == "/api/events"
        if isWrite || isStream, let origin = request.headers[.origin], !Self.sameOrigin(origin, host: request.head.authority) {
            throw APIError(.forbidden, "cross_origin", "a \(isStream ? "stream" : "write") from another origin (\(origin.prefix(80))) is refused")
        }
        if (isWrite || isStream || (readsNeedToken && !isPage)) && !context.hasToken {
            throw APIError(.unauthorized, "unauthorized", isWrite
                ? "this write needs the server's token: Authorization: Bearer TOKEN (printed at start, or MOONWIRE_HTTP_TOKEN)"
                : isStream ? "the event stream needs the server's token: /api/events?token=TOKEN"
                : "this server listens beyond loopback: every request needs its token (Authorization: Bearer TOKEN)")
        }
        return try await next(request, context)
    }

    /// Whether the Host header names this server: its listen address, or a loopback name.
    static func hostAllowed(_ authority: String?, allowed: Set<String>) -> Bool {
        guard let authority else { return false }
        var host = Substring(authority)
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            host = host[..<colon]
        }
        return allowed.contains(host.lowercased())
    }

    /// The bearer header's token; for the event stream also `?token=` (a browser's WebSocket
    /// cannot send headers).
    static func presentedToken(_ request: Request) -> String? {
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") {
            return String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        if request.uri.path == "/api/events" { return request.uri.queryParameters.get("token") }
        return nil
    }

    static func sameOrigin(_ origin: String, host: String?) -> Bool {
        guard let host, let url = URL(string: origin), let originHost = url.host else { return false }
        let originAuthority = url.port.map { "\(originHost):\($0)" } ?? originHost
        let bare = host.hasPrefix("[") ? host : host
        return originAuthority == bare || "[\(originHost)]" + (url.port.map { ":\($0)" } ?? "") == bare
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<min(x.count, y.count) { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}

/// A token bucket per client address: `perSecond` requests a second, `burst` at once.
final class RequestRateLimiter: Sendable {
    let perSecond: Double
    let burst: Double
    private let buckets = NIOLockedValueBox<[String: (tokens: Double, at: Double)]>([:])

    init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = burst
    }

    /// Nil when the request may go; else the whole seconds to wait.
    func take(_ client: String, now: Double = ProcessInfo.processInfo.systemUptime) -> Int? {
        buckets.withLockedValue { buckets in
            if buckets.count > 10_000 { buckets.removeAll() }  // bounded, whoever connects
            var bucket = buckets[client] ?? (burst, now)
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * perSecond)
            bucket.at = now
            defer { buckets[client] = bucket }
            guard bucket.tokens >= 1 else { return max(1, Int(((1 - bucket.tokens) / perSecond).rounded(.up))) }
            bucket.tokens -= 1
            return nil
        }
    }
}
