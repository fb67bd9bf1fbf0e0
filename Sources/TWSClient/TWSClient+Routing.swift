import Foundation
import NIOCore
import TWSProtocol

extension TWSClient {
    /// Hands one message to whoever waits for it: the connection machinery, a pending
    /// request, a stream, and (for trading state) every observer.
    func route(_ message: ServerMessage) {
        switch message {
        case let .nextValidId(m):
            // Order ids are 32-bit at TWS; one that is not (negative, or so large that ours
            // would overflow) is a broken or hostile peer: ignored, never trusted.
            guard (1..<TWSClient.largestOrderId).contains(m.orderId) else {
                logger.error("TWS sent nextValidId \(m.orderId), which is not a usable order id (1 to \(TWSClient.largestOrderId - 1)): ignored")
                emit(.failure(.invalidRequest("nextValidId \(m.orderId) is not a usable order id")))
                return
            }
            if let earlier = receivedNextValidId, m.orderId < earlier {
                logger.warning("TWS's nextValidId went back from \(earlier) to \(m.orderId): ids keep increasing from the highest")
            }
            receivedNextValidId = m.orderId
            ids.withLockedValue { $0 = max($0, m.orderId) }
            checkSynchronized()
        case let .managedAccounts(m):
            accounts = m.accounts
            checkSynchronized()
        case let .error(e):
            handleError(e)
            return
        case .currentTime:
            heartbeatDeadline?.cancel()
            heartbeatDeadline = nil
        case let .tickPrice(t):
            if quoteBook.apply(.price(t), readAt: readStartedAt) { return }
        case let .tickSize(t):
            if quoteBook.apply(.size(t), readAt: readStartedAt) { return }
        case let .tickString(t):
            if quoteBook.apply(.string(t), readAt: readStartedAt) { return }
        case let .marketDataType(t):
            if quoteBook.setMarketDataType(reqId: t.reqId, t.marketDataType) { return }
        case let .tickGeneric(t) where t.tickType == 49:
            if quoteBook.setHalted(reqId: t.reqId, t.value) { return }
        case let .realtimeBar(bar):
            if let id = barByReqId[bar.reqId] {
                barSubscriptions[id]?.handler(.bar(bar))
                return
            }
        default:
            break
        }
        if let reqId = message.requestId, let requests = pending[reqId] {
            for request in requests { request.deliver(message) }
        }
        if let kind = message.requestKind, let request = pendingByKind[kind] {
            request.deliver(message)
        }
        if case .commissionReport = message {
            // Commission reports carry no request id: the executions requests in flight pair them.
            for request in pending.values.joined() where request.name == "reqExecutions" { request.deliver(message) }
        }
        if message.isTradingState { emit(.message(message)) }
    }

    private func checkSynchronized() {
        guard case .synchronizing = machine.state, receivedNextValidId != nil, !accounts.isEmpty else { return }
        apply(machine.handle(.synchronized))
    }

    private func handleError(_ error: ErrorMessage) {
        let code = error.errorCode
        let category = IBErrorCategory.of(code: code, message: error.errorString)
        switch code {
        case 326:
            logger.warning("client id \(configuration.clientId) is in use at TWS; retrying the same id")
            emit(.error(id: error.reqId, code: code, message: error.errorString, category: category))
            failReadyWaiters(.ib(code: code, message: error.errorString, advancedOrderRejectJson: ""), onlyFailFast: true)
            apply(machine.handle(.duplicateClientId))
            return
        case 502 where !machine.isReady:
            // TWS (or a gateway with every client slot taken) will not take this connection.
            failReadyWaiters(.ib(code: code, message: error.errorString, advancedOrderRejectJson: ""), onlyFailFast: true)
        case 1100:
            emit(.connectivity(code: code, message: error.errorString))
            apply(machine.handle(.connectivityLost))
            return
        case 1101, 1102:
            emit(.connectivity(code: code, message: error.errorString))
            apply(machine.handle(.connectivityRestored(code: code)))
            return
        default:
            break
        }
        if error.reqId > 0 {
            if code == 354, configuration.marketDataType == TWSClientConfiguration.automaticMarketData,
               let subscription = quoteBook.subscription(reqId: error.reqId), quoteSubscriptions[subscription]?.delayed == false
            {
                fallBackToDelayed(subscription, because: error.errorString)
                return
            }
            if let subscription = quoteBook.subscription(reqId: error.reqId), category != .notice {
                quoteSubscriptions[subscription] = nil
                quoteBook.fail(subscription: subscription, .ib(code: code, message: error.errorString,
                                                               advancedOrderRejectJson: error.advancedOrderRejectJson))
                return
            }
            if let subscription = barByReqId[error.reqId], category != .notice {
                barSubscriptions[subscription]?.handler(.failed(.ib(code: code, message: error.errorString,
                                                                    advancedOrderRejectJson: error.advancedOrderRejectJson)))
                barSubscriptions[subscription] = nil
                barByReqId[error.reqId] = nil
                return
            }
            if let request = answeredBy(error.reqId, code: code), category != .notice, category != .orderWarning {
                request.error(code: code, message: error.errorString, json: error.advancedOrderRejectJson)
            }
        }
        emit(.error(id: error.reqId, code: code, message: error.errorString, category: category))
    }

    // MARK: Pending requests

    /// The request an error with `id` answers. TWS names only the id, and answers an order's
    /// requests in the order they were written: a cancel's codes (202, 10147, 10148) answer
    /// the oldest cancel waiting; any other error the oldest placement or modification written
    /// (one refused does not fail the next modification, which TWS may well take). A request
    /// id that is not an order's has one request.
    func answeredBy(_ id: Int, code: Int) -> PendingRequest? {
        guard let requests = pending[id], !requests.isEmpty else { return nil }
        if [202, 10147, 10148].contains(code) { return requests.first { $0.name == "cancelOrder" } }
        if let order = requests.first(where: { $0.written && ($0.name == "placeOrder" || $0.name == "modifyOrder") }) { return order }
        return requests.first { $0.name != "cancelOrder" && $0.name != "placeOrder" && $0.name != "modifyOrder" }
            ?? requests.first { $0.name == "cancelOrder" }
    }

    /// Sends a request and collects its answer. `byKind`: the answer carries no request id
    /// (one such request of a kind at a time; a second waits for the first).
    func perform<T: Sendable>(_ name: String, timeout: Double? = nil, byKind kind: String? = nil, key: Int? = nil,
                              initial: T, make: @escaping @Sendable (Int) -> ClientRequest?,
                              handle: @escaping @Sendable (inout T, ServerMessage) -> Bool,
                              onError: (@Sendable (Int, String, String) -> TWSError?)? = nil) async throws -> T
    {
        try await start(name, timeout: timeout, byKind: kind, key: key, initial: initial, make: make, handle: handle, onError: onError).get()
    }

    /// The same, without waiting: the request is queued for sending before this returns (so
    /// requests started one after the other leave in that order); the future completes
    /// with the answer.
    func start<T: Sendable>(_ name: String, timeout: Double? = nil, byKind kind: String? = nil, key: Int? = nil,
                            initial: T, make: @escaping @Sendable (Int) -> ClientRequest?,
                            handle: @escaping @Sendable (inout T, ServerMessage) -> Bool,
                            onError: (@Sendable (Int, String, String) -> TWSError?)? = nil) -> EventLoopFuture<T>
    {
        let promise = loop.makePromise(of: T.self)
        onLoop(failing: promise) {
            guard self.machine.isReady else {
                promise.fail(TWSError.notConnected)
                return
            }
            if let kind, self.pendingByKind[kind] != nil {
                promise.fail(TWSError.invalidRequest("\(name): another \(kind) request is in flight"))
                return
            }
            let id = key ?? (kind == nil ? self.takeId() : 0)
            let request = Pending(name: name, initial: initial, promise: promise, handle: handle)
            request.onError = onError
            if let kind {
                self.pendingByKind[kind] = request
                request.onDone = { [unowned self] in self.pendingByKind[kind] = nil }
            } else {
                // Requests under one key wait side by side (a cancel of an order whose
                // placement TWS has not acknowledged yet): each ends on its own answer.
                self.pending[id, default: []].append(request)
                let identity = ObjectIdentifier(request)
                request.onDone = { [unowned self] in
                    self.pending[id]?.removeAll { ObjectIdentifier($0) == identity }
                    if self.pending[id]?.isEmpty == true { self.pending[id] = nil }
                }
            }
            let seconds = timeout ?? self.configuration.requestTimeout
            request.timer = self.loop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
                request.fail(.timeout(request: name, seconds: seconds))
            }
            if let wire = make(id) {
                do {
                    try self.send(wire)
                } catch let error as TWSError {
                    request.fail(error)
                } catch {
                    request.fail(.invalidRequest("\(name): \(error)"))
                }
            }
        }
        return promise.futureResult
    }
}
