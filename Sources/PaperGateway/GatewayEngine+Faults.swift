import Foundation
import NIOCore
import TWSProtocol

/// The faults a test can switch on while clients are connected (control port, README).
extension GatewayEngine {
    /// Closes every client connection (a network drop).
    func dropAll() {
        for session in sessions.values { session.channel.close(promise: nil) }
    }

    /// TWS loses its link to IB (1100); after `seconds` it comes back with `restoreCode`:
    /// 1101 (data lost: market data subscriptions are dropped and must be made again) or
    /// 1102 (data maintained). Streaming stops while the link is down.
    func outage(restoreCode: Int, after seconds: Double) {
        for session in clients {
            session.stalled = true
            session.sendError(-1, 1100, "Connectivity between IBKR and Trader Workstation has been lost.")
        }
        flushAll()
        loop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) { [self] in
            for session in clients {
                session.stalled = false
                if restoreCode == 1101 {
                    session.marketData.removeAll()
                    session.realTimeBars.removeAll()
                    session.liveHistory.removeAll()
                    session.sendError(-1, 1101, "Connectivity between IBKR and Trader Workstation has been restored - data lost.")
                } else {
                    session.sendError(-1, 1102, "Connectivity between IBKR and Trader Workstation has been restored - data maintained.")
                }
            }
            flushAll()
        }
    }

    /// Streams go silent for `seconds` (orders and replies still flow): a stalled feed.
    func stall(seconds: Double) {
        for session in clients { session.stalled = true }
        loop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) { [self] in
            for session in clients { session.stalled = false }
        }
    }

    /// A gateway restart: every connection drops and new ones are refused for `seconds`.
    func restart(seconds: Double) {
        // Wall-clock time even with a manual market clock: a restart is about connections.
        faults.refuseConnectionsUntil = Date().timeIntervalSince1970 + seconds
        dropAll()
    }

    /// Order requests (orders, cancels, and the reports of open orders and executions) are
    /// kept for `seconds`, then handled in the order they came: a busy order desk that
    /// acknowledges late. Nothing is lost or reordered; market data, heartbeats and the rest
    /// are answered at once (so a client does not take the gateway for dead). With
    /// `everything`, every request but the handshake is kept (a busy TWS; not for long: the
    /// heartbeats wait too).
    func startHold(seconds: Double, everything: Bool = false) {
        faults.holdUntil = Date().timeIntervalSince1970 + seconds
        faults.holdEverything = everything
        loop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) { [self] in releaseHeld() }
    }

    /// Keeps `request` while the hold is on, or while requests kept before it still wait (so
    /// that none overtakes them). Returns whether it was kept.
    func hold(_ session: GatewaySession, _ request: ClientRequest) -> Bool {
        guard !faults.releasing, request.isOrderFlow || faults.holdEverything,
              Date().timeIntervalSince1970 < faults.holdUntil || !faults.held.isEmpty
        else { return false }
        faults.held.append((session.id, request))
        return true
    }

    /// Handles the kept requests, in order (their message rate was counted when they came).
    func releaseHeld() {
        let left = faults.holdUntil - Date().timeIntervalSince1970
        if left > 0 {
            // A later, longer hold (or a timer a moment early): its own end releases them.
            loop.scheduleTask(in: .milliseconds(Int64(left * 1000) + 1)) { [self] in releaseHeld() }
            return
        }
        let held = faults.held
        faults.held = []
        faults.releasing = true
        defer { faults.releasing = false }
        for (id, request) in held {
            guard let session = sessions[id] else { continue }
            if !handle(session, request) { session.channel.close(promise: nil) }
        }
    }

    /// Sends every execution again to its client, unsolicited, as TWS may after a reconnect.
    func replayExecutions() -> Int {
        var count = 0
        for record in executions {
            guard let owner = clients.first(where: { $0.clientId == record.execution.clientId }) else { continue }
            var details = ExecDetails(reqId: -1, contract: record.contract, execution: record.execution)
            details.contract.exchange = record.execution.exchange
            owner.send(.execDetails(details))
            owner.send(.commissionReport(record.commission))
            count += 1
        }
        flushAll()
        return count
    }

    /// The longest a fault may last, in seconds (a year).
    static let maxFaultSeconds = 365.0 * 86400

    /// Runs one control command; returns the reply line.
    func control(_ line: String) -> String {
        let words = line.split(separator: " ").map(String.init)
        guard let command = words.first?.lowercased() else { return "error empty command" }
        /// A count or a number of seconds: finite, 0 to a year (the timers take milliseconds
        /// as Int64, which NaN, infinity or 1e300 would trap on).
        func number(_ index: Int, default value: Double) -> Double? {
            guard words.count > index else { return value }
            guard let number = Double(words[index]), number >= 0, number <= Self.maxFaultSeconds else { return nil }
            return number
        }
        switch command {
        case "drop":
            let count = clients.count
            dropAll()
            return "ok dropped \(count)"
        case "outage":
            guard words.count >= 2, let code = Int(words[1]), code == 1101 || code == 1102, let seconds = number(2, default: 1) else {
                return "error usage: outage 1101|1102 [SECONDS]"
            }
            outage(restoreCode: code, after: seconds)
            return "ok outage \(code) after \(seconds)"
        case "stall":
            guard let seconds = number(1, default: 5) else { return "error usage: stall [SECONDS]" }
            stall(seconds: seconds)
            return "ok stall \(seconds)"
        case "restart":
            guard let seconds = number(1, default: 3) else { return "error usage: restart [SECONDS]" }
            restart(seconds: seconds)
            return "ok restart \(seconds)"
        case "hang":
            guard let seconds = number(1, default: 5) else { return "error usage: hang [SECONDS]" }
            faults.hangUntil = Date().timeIntervalSince1970 + seconds
            return "ok hang \(seconds)"
        case "reject-next":
            let reason = words.count > 1 ? words.dropFirst().joined(separator: " ") : "Simulated rejection (control port)"
            faults.rejectNextOrder = reason
            return "ok reject-next"
        case "hold":
            guard (2...3).contains(words.count), let seconds = Double(words[1]), seconds >= 0, seconds <= 3600,
                  words.count == 2 || words[2] == "all"
            else {
                return "error usage: hold SECONDS [all] (0-3600)"
            }
            startHold(seconds: seconds, everything: words.count == 3)
            return "ok hold \(seconds)\(words.count == 3 ? " all" : "")"
        case "slow-cancels":
            guard words.count == 2, let seconds = number(1, default: 0) else { return "error usage: slow-cancels SECONDS" }
            faults.cancelDelay = seconds
            return "ok slow-cancels \(seconds)"
        case "replay-executions":
            return "ok replayed \(replayExecutions())"
        case "step":
            guard let count = number(1, default: 1), count >= 1, count <= 1_000_000 else { return "error usage: step [COUNT] (1-1000000)" }
            for _ in 0..<Int(count) { step() }
            return "ok steps \(market.steps)"
        case "price":
            guard words.count == 3, market.instrument(symbol: words[1].uppercased()) != nil, let price = Double(words[2]), price > 0,
                  price <= PaperOrder.maxPrice
            else {
                return "error usage: price SYMBOL PRICE (a known symbol and a positive price)"
            }
            setPrice(symbol: words[1].uppercased(), price: price)
            return "ok price \(words[1].uppercased()) \(price)"
        case "position":
            guard words.count == 4, let instrument = market.instrument(symbol: words[1].uppercased()), let quantity = Double(words[2]),
                  let cost = Double(words[3]), abs(quantity) <= PaperOrder.maxQuantity, abs(cost) <= PaperOrder.maxPrice
            else {
                return "error usage: position SYMBOL QUANTITY AVERAGE_COST"
            }
            accounts[defaultAccount]?.place(symbol: instrument.symbol, conId: instrument.conId, terms: instrument.terms,
                                            quantity: quantity, averageCost: cost)
            saveAccounts()
            return "ok position \(instrument.symbol) \(quantity)"
        case "next-valid-id":
            // A broken or hostile TWS: sends this nextValidId to every client, as is.
            guard words.count == 2, let id = Int(words[1]) else { return "error usage: next-valid-id ID" }
            for session in clients { session.send(.nextValidId(NextValidId(orderId: id))) }
            flushAll()
            return "ok next-valid-id \(id)"
        case "notice":
            // A storm of one notice (e.g. notice 1102 10000) to every client.
            guard words.count == 3, let code = Int(words[1]), let count = Int(words[2]), (1...100_000).contains(count) else {
                return "error usage: notice CODE COUNT (1-100000)"
            }
            for session in clients {
                for _ in 0..<count { session.sendError(-1, code, "Simulated notice \(code) (control port)") }
            }
            flushAll()
            return "ok notice \(code) x\(count)"
        case "halted":
            // Trading in SYMBOL halted (1) or resumed (0): tick 49 to every stream of it.
            guard words.count == 3, let instrument = market.instrument(symbol: words[1].uppercased()), let flag = Int(words[2]), flag == 0 || flag == 1 else {
                return "error usage: halted SYMBOL 1|0"
            }
            if flag == 1 { faults.halted.insert(instrument.symbol) } else { faults.halted.remove(instrument.symbol) }
            for session in clients {
                for (reqId, line) in session.marketData where line.symbol == instrument.symbol {
                    session.send(.tickGeneric(TickGeneric(reqId: reqId, tickType: 49, value: Double(flag))))
                }
            }
            flushAll()
            return "ok halted \(instrument.symbol) \(flag)"
        case "status":
            let heldCancels = faults.held.filter { if case .cancelOrder = $0.request { true } else { false } }.count
            let working = orders.values.filter(\.isWorking).count
            return "ok clients=\(clients.count) steps=\(market.steps) orders=\(orders.count) working=\(working) executions=\(executions.count) held=\(faults.held.count) held_cancels=\(heldCancels)"
        default:
            return "error unknown command '\(command)' (drop, outage, stall, hang, hold, restart, reject-next, slow-cancels, replay-executions, step, price, position, next-valid-id, notice, halted, status)"
        }
    }
}

extension ClientRequest {
    /// Orders, cancels and the requests that report them: what the `hold` fault keeps.
    var isOrderFlow: Bool {
        switch self {
        case .placeOrder, .cancelOrder, .reqGlobalCancel, .reqOpenOrders, .reqAllOpenOrders, .reqAutoOpenOrders, .reqCompletedOrders,
             .reqExecutions:
            return true
        default:
            return false
        }
    }
}

/// Splits the control connection into lines.
struct LineDecoder: ByteToMessageDecoder {
    typealias InboundOut = String

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > 4096 { throw TWSProtocolError.badHandshake("control line too long") }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        let line = buffer.readString(length: length) ?? ""
        buffer.moveReaderIndex(forwardBy: 1)
        context.fireChannelRead(Self.wrapInboundOut(line.trimmingCharacters(in: .whitespacesAndNewlines)))
        return .continue
    }
}

/// The control port: one command a line, one reply a line.
final class ControlHandler: ChannelInboundHandler {
    typealias InboundIn = String
    typealias OutboundOut = ByteBuffer
    private let engine: GatewayEngine

    init(engine: GatewayEngine) { self.engine = engine }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        guard !line.isEmpty else { return }
        engine.logger.info("control: \(line)")
        let reply = engine.control(line) + "\n"
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: reply)), promise: nil)
    }
}
