import Foundation
import NIOCore
import TWSProtocol

/// One client connection: its negotiated version, client id and subscriptions.
///
/// Touched only on the gateway's event loop. Messages are written as they are produced and
/// flushed once per batch (`flush()`), so a burst of ticks costs one syscall.
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
    var recentRequests: [Double] = []
    var stalled = false
    private var pendingWrites = 0

    struct MarketDataLine {
        var symbol: String
        var type: Int
        var genericTicks: Set<Int>
        var last: Quote?
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
        do {
            let frame = try message.frame(serverVersion: serverVersion)
            channel.write(channel.allocator.buffer(bytes: frame), promise: nil)
            pendingWrites += 1
        } catch {
            // Our own messages always encode; a failure here is a bug worth seeing.
            assertionFailure("cannot encode \(message.name): \(error)")
        }
    }

    func sendError(_ id: Int, _ code: Int, _ text: String, json: String = "") {
        send(.error(ErrorMessage(reqId: id, errorCode: code, errorString: text, advancedOrderRejectJson: json,
                                 errorTime: Int64(Date().timeIntervalSince1970 * 1000))))
    }

    func flush() {
        guard pendingWrites > 0 else { return }
        pendingWrites = 0
        channel.flush()
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
