import Foundation
import NIOCore
import TWSProtocol

/// One client connection: its negotiated version, client id and subscriptions.
///
/// Touched only on the gateway's event loop. Messages are framed into one buffer as they are
/// produced and written once per batch (`flush()`), so a burst of ticks costs one buffer and
/// one syscall, not one of each per message.
final class GatewaySession {
    let channel: Channel
    let id: Int
    var serverVersion = 0
    var clientId: Int?
    var marketDataType = 1
    /// reqId → symbol of live market data lines.
    var marketData: [Int: MarketDataLine] = [:]
    var realTimeBars: [Int: String] = [:]
    /// reqId → (symbol, bar seconds, whatToShow) of keepUpToDate history requests.
    var liveHistory: [Int: LiveHistory] = [:]
    var accountUpdates: String?
    var positionUpdates = false
    var accountSummaries: [Int: [String]] = [:]
    var pnl: [Int: String] = [:]
    var pnlSingle: [Int: (account: String, conId: Int)] = [:]
    var accountUpdatesMulti: [Int: String] = [:]
    var positionsMulti: [Int: String] = [:]
    /// Times of recent requests, for the 50-per-second rule.
    /// Messages in the current one-second window (IB's 50 a second).
    var rateWindowStart = 0.0
    var rateCount = 0
    var rateErrorSent = false
    /// Since when the client has not been reading what we send (nil: it reads).
    var unreadSince: Double?
    /// Market data dropped for a client that did not read.
    var droppedWhileUnread = 0
    var stalled = false
    /// Frames produced since the last flush.
    private var pending: [UInt8] = []

    struct MarketDataLine {
        var symbol: String
        var type: Int
        var genericTicks: Set<Int>
        var last: Quote?
        /// Forex has no trades: bid and ask only (known at subscription, not looked up per tick).
        var quotesTrades = true
    }

    struct LiveHistory {
        var symbol: String
        var barSeconds: Int
        var whatToShow: String
        var formatDate: Int
        var bar: Bar
        var barStart: Int
    }

    init(channel: Channel, id: Int) {
        self.channel = channel
        self.id = id
    }

    var isOpen: Bool { channel.isActive }

    func send(_ message: ServerMessage) {
        guard isOpen, !stalled || !message.isStreamingData else { return }
        // A client that does not read gets no more market data (dropped, counted: the next
        // move sends the current values again); what it must hear still goes out.
        if message.isStreamingData && unreadSince != nil {
            droppedWhileUnread += 1
            return
        }
        do {
            try message.appendFrame(to: &pending, serverVersion: serverVersion)
        } catch {
            // Our own messages always encode; a failure here is a bug worth seeing.
            assertionFailure("cannot encode \(message.name): \(error)")
        }
    }

    func sendError(_ id: Int, _ code: Int, _ text: String, json: String = "") {
        send(.error(ErrorMessage(reqId: id, errorCode: code, errorString: text, advancedOrderRejectJson: json,
                                 errorTime: Int64(Date().timeIntervalSince1970 * 1000))))
    }

    /// How long a client may leave what we send unread before it is disconnected.
    static let unreadLimit = 30.0

    func flush() {
        if isOpen && !channel.isWritable {
            let now = Date().timeIntervalSince1970
            if unreadSince == nil { unreadSince = now }
            if now - (unreadSince ?? now) > Self.unreadLimit {
                channel.close(promise: nil)  // bounded: never an ever-growing buffer
                pending.removeAll()
                return
            }
        } else {
            unreadSince = nil
        }
        guard !pending.isEmpty else { return }
        if isOpen {
            var buffer = channel.allocator.buffer(capacity: pending.count)
            buffer.writeBytes(pending)
            channel.writeAndFlush(buffer, promise: nil)
        }
        pending.removeAll(keepingCapacity: true)
    }
}

extension ServerMessage {
    /// Market data a "stall" fault holds back (orders and errors still flow).
    var isStreamingData: Bool {
        switch self {
        case .tickPrice, .tickSize, .tickString, .tickGeneric, .realtimeBar, .historicalDataUpdate, .tickByTick: return true
        default: return false
        }
    }
}
