import Foundation
import Moonwire
import NIOConcurrencyHelpers
import StrategyHost
import TWSClient
import TradingState

/// Hands each event to every WebSocket client as one JSON text, made once. Each client has a
/// bounded buffer: one that falls `bufferSize` messages behind is cut off (`tooSlow` fires),
/// never waited for; trading never waits on a client.
final class EventFanOut: Sendable {
    static let bufferSize = 1000

    final class Client: Sendable {
        let messages: AsyncStream<String>
        let continuation: AsyncStream<String>.Continuation
        /// Fires once when the client fell too far behind.
        let tooSlow: AsyncStream<Void>
        let slowSignal: AsyncStream<Void>.Continuation

        init() {
            (messages, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingOldest(EventFanOut.bufferSize))
            (tooSlow, slowSignal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        }
    }

    private let clients = NIOLockedValueBox<(next: Int, all: [Int: Client], closed: Bool)>((0, [:], false))
    /// Order id to strategy, from order events (a fill names its strategy): bounded.
    private let owners = NIOLockedValueBox<[Int: String]>([:])
    /// Each order's latest message, to say a state once.
    private let lastOrder = NIOLockedValueBox<[Int: OrderRecord]>([:])
    let dropped = NIOLockedValueBox(0)

    var clientCount: Int { clients.withLockedValue { $0.all.count } }

    func add() -> (id: Int, client: Client) {
        let client = Client()
        let id = clients.withLockedValue { state -> Int in
            state.next += 1
            if !state.closed { state.all[state.next] = client }
            return state.next
        }
        if clients.withLockedValue({ $0.closed }) { client.continuation.finish() }
        return (id, client)
    }

    func remove(_ id: Int) {
        let client = clients.withLockedValue { $0.all.removeValue(forKey: id) }
        client?.continuation.finish()
        client?.slowSignal.finish()
    }

    /// Ends every client's stream (the server is stopping); later clients are not taken.
    func closeAll() {
        broadcast(Self.message("stopped", []))
        let all = clients.withLockedValue { state -> [Int] in
            state.closed = true
            return Array(state.all.keys)
        }
        for id in all { remove(id) }
    }

    func broadcast(_ message: JSONText) {
        let all = clients.withLockedValue { Array($0.all) }
        guard !all.isEmpty else { return }
        let text = message.text
        for (id, client) in all {
            if case .dropped = client.continuation.yield(text) {
                dropped.withLockedValue { $0 += 1 }
                client.slowSignal.yield(())
                remove(id)
            }
        }
    }

    static func message(_ type: String, _ fields: [(String, JSONText)]) -> JSONText {
        // `ts_us`: when the message was made (epoch microseconds), for latency figures.
        let now = Date().timeIntervalSince1970
        return .object([("type", .string(type)), ("time", RecordJSON.time(now)), ("ts_us", .integer(Int64(now * 1e6)))] + fields)
    }

    /// The event as the stream says it, nil for what the stream does not carry.
    func message(for event: MoonwireEvent) -> JSONText? {
        switch event {
        case let .notice(line): return Self.message("notice", [("message", .string(line))])
        case let .strategyAdded(name, path):
            return Self.message("strategy", [("name", .string(name)), ("event", .string("added")), ("path", .string(path))])
        case let .strategyRemoved(name, _): return Self.message("strategy", [("name", .string(name)), ("event", .string("removed"))])
        case let .reloaded(strategy, outcome):
            return Self.message("strategy", [("name", .string(strategy)), ("event", .string("reloaded")), ("succeeded", .bool(outcome.succeeded)),
                                             ("error", .string(outcome.error))])
        case let .paused(strategy, paused):
            return Self.message("strategy", [("name", .string(strategy)), ("event", .string(paused ? "paused" : "resumed"))])
        case let .halted(everything, left, by):
            return Self.message("halt", [("everything", .bool(everything)), ("left", .array(left.map { .int($0) })), ("by", .string(by))])
        case let .trading(.commission(record)):
            return Self.message("commission", [("exec_id", .string(record.execId)), ("order_id", .int(record.orderId)),
                                               ("commission", .number(record.commission?.commission))])
        case let .trading(.order(record)):
            // Each state said once (`reportsSameState`: TWS often reports one state twice).
            let repeated = owners.withLockedValue { owners -> Bool in
                if owners.count > 20_000 { owners.removeAll() }
                owners[record.orderId] = record.strategy
                return lastOrder.withLockedValue { last in
                    if last.count > 20_000 { last.removeAll() }
                    defer { last[record.orderId] = record }
                    return last[record.orderId]?.reportsSameState(as: record) == true
                }
            }
            return repeated ? nil : Self.message("order", [("order", RecordJSON.order(record))])
        case let .trading(.fill(record)):
            let strategy = owners.withLockedValue { $0[record.orderId] }
            return Self.message("fill", [("fill", RecordJSON.fill(record, strategy: strategy))])
        case let .trading(.pnl(daily, unrealized, realized)):
            return Self.message("pnl", [("daily", .number(daily)), ("unrealized", .number(unrealized)), ("realized", .number(realized))])
        case let .connection(state): return Self.message("connection", [("state", .string(state))])
        case .stopped: return Self.message("stopped", [])
        default: return nil
        }
    }

    func message(for line: LogTail.Line) -> JSONText {
        Self.message("log", [("level", .string(line.level.rawValue)), ("source", .string(line.source)), ("message", .string(line.message))])
    }
}

/// Quotes for the stream: every 250 ms, one message with the instruments whose quote changed
/// since the last look (coalesced: a client sees the newest, not every tick; one frame for
/// all of them, not one per instrument: 20 instruments were 80 frames a second per client).
struct QuoteCoalescer {
    private var sent: [String: (Double?, Double?, Double?)] = [:]

    mutating func changes(in quotes: [String: MarketQuote]) -> JSONText? {
        var changed: [JSONText] = []
        for key in quotes.keys.sorted() {
            guard let quote = quotes[key] else { continue }
            let now = (quote.bid, quote.ask, quote.last)
            if let before = sent[key], before == now { continue }
            sent[key] = now
            changed.append(.object([("symbol", .string(key)), ("bid", .number(quote.bid)), ("ask", .number(quote.ask)), ("last", .number(quote.last))]))
        }
        return changed.isEmpty ? nil : EventFanOut.message("quotes", [("quotes", .array(changed))])
    }
}
