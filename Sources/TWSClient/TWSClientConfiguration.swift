/// How the client connects and how patient it is.
public struct TWSClientConfiguration: Sendable, Equatable {
    public var host = "127.0.0.1"
    /// TWS paper 7497, TWS live 7496, IB Gateway paper 4002, live 4001.
    public var port = 7497
    public var clientId = 0
    /// Seconds to wait for TWS to answer the hello (it stays silent while its
    /// "accept incoming connection" dialog is open).
    public var handshakeTimeout = 10.0
    /// Default timeout of a request that ends in one answer.
    public var requestTimeout = 30.0
    /// Timeout of one historical-data request once sent (pacing waits come on top).
    public var historicalTimeout = 120.0
    /// Outgoing messages per second (IB allows 50; ib_async uses 45).
    public var messagesPerSecond = 45
    /// A reqCurrentTime every this many seconds; no answer within `heartbeatTimeout` means
    /// the connection is dead even if the socket says otherwise.
    public var heartbeatInterval = 30.0
    public var heartbeatTimeout = 10.0
    /// Sent after every (re)connect: TWS forgets it.
    /// 1 live, 2 frozen, 3 delayed, 4 delayed frozen, or `automaticMarketData`: live, and
    /// delayed for an instrument TWS has no live subscription for (354 / 10167).
    public var marketDataType = 1
    public static let automaticMarketData = 0
    public var reconnect = ConnectionStateMachine.Policy()
    /// IB's historical window (600 s); tests shorten it together with the paper gateway's.
    public var historicalPacingWindow = 600.0
    /// Backoff after a 162 pacing violation before the same request is sent again.
    public var pacingRetryDelay = 15.0

    public init(host: String = "127.0.0.1", port: Int = 7497, clientId: Int = 0) {
        self.host = host
        self.port = port
        self.clientId = clientId
    }
}
