import TWSProtocol

/// The connection's life as a value type: `event → actions`, with no I/O, so every path
/// (backoff, 326, 1100/1101/1102, heartbeat loss, handshake timeout) is tested without a
/// socket (AsyncHTTPClient's connection state machines are the model).
public struct ConnectionStateMachine: Sendable {
    public enum State: Equatable, Sendable {
        case idle
        case connecting(attempt: Int)
        case handshaking(attempt: Int)
        case synchronizing(attempt: Int)
        case ready
        case waiting(attempt: Int)
        case stopped
    }

    public enum Event: Equatable, Sendable {
        case start
        case connectFailed
        case channelActive
        case serverHello(version: Int)
        case handshakeTimedOut
        /// nextValidId and a non-empty managedAccounts have both arrived.
        case synchronized
        case duplicateClientId
        case connectionClosed
        case reconnectTimerFired
        case connectivityLost
        case connectivityRestored(code: Int)
        case heartbeatDue
        case heartbeatMissed
        case stop
    }

    public enum Action: Equatable, Sendable {
        case connect
        case sendHello
        case startHandshakeTimer
        case sendStartAPI
        case closeConnection
        case scheduleReconnect(delay: Double)
        /// Ready: restore the market data type and every subscription when `restored` is true.
        case becameReady(restored: Bool)
        /// Requests in flight end in `connectionLost`; streams are told the connection dropped.
        case connectionLost
        case markStale
        case resubscribeAll
        case sendHeartbeat
        case report(TWSError)
        case cancelTimers
    }

    public struct Policy: Sendable, Equatable {
        public var backoffBase = 1.0
        public var backoffCap = 60.0
        /// ± this fraction of the delay, at random, so many clients do not reconnect in step.
        public var jitter = 0.2
        /// After 326, TWS may still hold the old session for a moment: wait at least this.
        public var duplicateClientIdDelay = 2.0
        public init() {}
    }

    public private(set) var state: State = .idle
    public private(set) var stale = false
    private var wasReady = false
    private var random: UInt64
    public let policy: Policy

    public init(policy: Policy = Policy(), seed: UInt64 = 0x5EED) {
        self.policy = policy
        self.random = seed
    }

    public var isReady: Bool { state == .ready }

    /// The delay before reconnect attempt `attempt` (1, 2, ...): exponential, capped, jittered.
    public mutating func backoff(attempt: Int) -> Double {
        let exponential = min(policy.backoffCap, policy.backoffBase * Double(1 << min(max(attempt - 1, 0), 30)))
        random &+= 0x9E37_79B9_7F4A_7C15
        var z = random
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        let unit = Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        return max(0, min(policy.backoffCap, exponential * (1 + policy.jitter * (2 * unit - 1))))
    }

    private mutating func retry(after attempt: Int, minimum: Double = 0) -> [Action] {
        let next = attempt + 1
        state = .waiting(attempt: next)
        return [.scheduleReconnect(delay: max(minimum, backoff(attempt: next)))]
    }

    private var attempt: Int {
        switch state {
        case let .connecting(a), let .handshaking(a), let .synchronizing(a), let .waiting(a): return a
        default: return 0
        }
    }

    public mutating func handle(_ event: Event) -> [Action] {
        if state == .stopped { return [] }
        switch (event, state) {
        case (.stop, _):
            state = .stopped
            return [.cancelTimers, .closeConnection, .connectionLost]
        case (.start, .idle):
            state = .connecting(attempt: 0)
            return [.connect]
        case (.connectFailed, .connecting(let a)):
            return retry(after: a)
        case (.channelActive, .connecting(let a)):
            state = .handshaking(attempt: a)
            return [.sendHello, .startHandshakeTimer]
        case (.serverHello(let version), .handshaking(let a)):
            guard ServerVersion.supported.contains(version) else {
                state = .stopped
                let reason = version < ServerVersion.supported.lowerBound
                    ? "TWS/IB Gateway is too old: Moonwire needs server version \(ServerVersion.supported.lowerBound) or later"
                    : "above \(ServerVersion.supported.upperBound), which Moonwire never asks for"
                return [.cancelTimers, .closeConnection, .report(.unsupportedServerVersion(version, reason: reason))]
            }
            state = .synchronizing(attempt: a)
            return [.sendStartAPI]
        case (.handshakeTimedOut, .handshaking(let a)), (.handshakeTimedOut, .synchronizing(let a)):
            return [.closeConnection] + retry(after: a)
        case (.synchronized, .synchronizing):
            state = .ready
            stale = false
            let restored = wasReady
            wasReady = true
            return [.cancelTimers, .becameReady(restored: restored)]
        case (.duplicateClientId, .handshaking(let a)), (.duplicateClientId, .synchronizing(let a)):
            return [.cancelTimers, .closeConnection] + retry(after: a, minimum: policy.duplicateClientIdDelay)
        case (.duplicateClientId, .ready):
            return [.cancelTimers, .closeConnection, .connectionLost] + retry(after: 0, minimum: policy.duplicateClientIdDelay)
        case (.connectionClosed, .ready):
            return [.cancelTimers, .connectionLost] + retry(after: 0)
        case (.connectionClosed, .connecting(let a)), (.connectionClosed, .handshaking(let a)), (.connectionClosed, .synchronizing(let a)):
            return [.cancelTimers, .connectionLost] + retry(after: a)
        case (.reconnectTimerFired, .waiting(let a)):
            state = .connecting(attempt: a)
            return [.connect]
        case (.connectivityLost, .ready):
            stale = true
            return [.markStale]
        case (.connectivityRestored, .ready):
            // Both 1101 (data lost) and 1102 (data maintained) resubscribe: after 1102 some
            // feeds come back silent, and a fresh subscription costs nothing. Once per episode
            // (1100, then the first 1101/1102): a repeated notice changes nothing.
            guard stale else { return [] }
            stale = false
            return [.resubscribeAll]
        case (.heartbeatDue, .ready):
            return [.sendHeartbeat]
        case (.heartbeatMissed, .ready):
            // The socket may look open, but nothing comes back: drop it and start over.
            return [.closeConnection, .cancelTimers, .connectionLost] + retry(after: 0)
        default:
            return []
        }
    }
}
