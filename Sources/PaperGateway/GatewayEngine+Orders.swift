import Foundation
import Money
import TWSProtocol

extension GatewayEngine {
    func placeOrder(_ session: GatewaySession, _ request: PlaceOrder) {
        guard let clientId = session.clientId else { return }
        if placeOrdersSeen.count >= 10_000 { placeOrdersSeen.removeAll() }
        placeOrdersSeen[request.orderId, default: 0] += 1
        let key = OrderKey(clientId: clientId, orderId: request.orderId)
        if var existing = orders[key] {
            modify(session, &existing, request)
            orders[key] = existing
            save(existing)
            return
        }
        // TWS keeps order ids in a Java int: anything outside 1...2^31-1 is no id (and the
        // next valid id, one more, must not overflow).
        guard PaperOrder.orderIds.contains(request.orderId) else {
            session.sendError(request.orderId, 321, "Error validating request.-'placeOrder' : cause - Invalid order id \(request.orderId) "
                              + "(order ids are 1 to \(PaperOrder.orderIds.upperBound))")
            return
        }
        guard request.orderId >= nextValidId(for: clientId) else {
            session.sendError(request.orderId, 103, "Duplicate order id")
            return
        }
        nextValidIds[clientId] = request.orderId + 1
        guard let instrument = resolve(request.contract) else {
            session.sendError(request.orderId, 200, unresolved(request.contract))
            return
        }
        if let reason = rejection(of: request.order, instrument: instrument, session: session) {
            reject(session, key: key, instrument: instrument, request: request, code: reason.code, text: reason.text)
            return
        }
        var order = request.order
        if order.tif.isEmpty { order.tif = "DAY" }
        var paper = PaperOrder(orderId: request.orderId, clientId: clientId, permId: nextPermId, contract: instrument.contract, order: order)
        nextPermId += 1
        orders[key] = paper
        orderSequence.append(key)
        compactFinishedOrders()
        logger.info("order \(clientId)/\(request.orderId): \(order.action) \(order.totalQuantity?.description ?? "?") \(instrument.symbol) \(order.orderType)")
        report(paper)  // PreSubmitted
        if instrument.secType == "CASH", let quantity = order.totalQuantity?.doubleValue, quantity < 20_000 {
            session.sendError(request.orderId, 399, "Order Message:\nWarning: your order size is below the \(instrument.ibSymbol) 20000 "
                              + "IdealPro minimum and will be routed as an odd lot order.")
        }
        if isReleased(paper) {
            paper.status = "Submitted"
            if isStopWaiting(paper) || !marketOpen(for: paper) { paper.status = "PreSubmitted" }
            orders[key] = paper
            if paper.status == "Submitted" { report(paper) }
        }
        // A transmitting child releases its staged parent and siblings (a bracket).
        if request.order.transmit && request.order.parentId != 0 {
            releaseStaged(clientId: clientId, parentId: request.order.parentId)
        }
        save(orders[key]!)
        matchOrders()
    }

    /// IB's validation of a new order: the code and text of the rejection, or nil.
    private func rejection(of order: Order, instrument: Instrument, session: GatewaySession) -> (code: Int, text: String)? {
        if let fault = faults.rejectNextOrder {
            faults.rejectNextOrder = nil
            return (201, "Order rejected - reason:\(fault)")
        }
        guard let quantity = order.totalQuantity, quantity.doubleValue > 0 else {
            return (434, "The order size cannot be zero")
        }
        guard quantity.doubleValue <= PaperOrder.maxQuantity else {
            return (201, "Order rejected - reason:The order size \(quantity) is over the paper gateway's maximum of \(Int(PaperOrder.maxQuantity))")
        }
        // Prices the client set, whatever the order type: none may be NaN, infinite or absurd
        // (they would turn cash, positions and PnL into nonsense once filled or modified).
        let prices: [(String, Double?)] = [("limit price", order.lmtPrice), ("aux (stop) price", order.auxPrice),
                                           ("trailing stop price", order.trailStopPrice), ("trailing percent", order.trailingPercent)]
        for (name, value) in prices {
            guard let value else { continue }
            guard value.isFinite, abs(value) <= PaperOrder.maxPrice else {
                return (201, "Order rejected - reason:The \(name) \(value) is not a price (a finite number of at most \(Int(PaperOrder.maxPrice)))")
            }
        }
        guard instrument.tradable else {
            return (201, "Order rejected - reason:\(instrument.symbol) is an index: it is quoted, not traded (trade its future or an ETF)")
        }
        // Stocks trade in whole shares through the API, as at IB.
        guard quantity.doubleValue.rounded() == quantity.doubleValue else {
            return (10243, "Fractional-sized order cannot be placed via API.")
        }
        guard order.action == "BUY" || order.action == "SELL" else {
            return (201, "Order rejected - reason:Invalid action '\(order.action)' (BUY or SELL)")
        }
        guard PaperOrder.supportedTypes.contains(order.orderType) else {
            return (201, "Order rejected - reason:The paper gateway does not simulate order type '\(order.orderType)' (MKT, LMT, STP, STP LMT)")
        }
        guard PaperOrder.supportedTIFs.contains(order.tif) else {
            return (201, "Order rejected - reason:Time in force '\(order.tif)' is not supported (DAY, GTC, IOC)")
        }
        if !order.account.isEmpty && accounts[order.account] == nil {
            return (201, "Order rejected - reason:Account '\(order.account)' is not one of this login's accounts (\(config.accounts.joined(separator: ",")))")
        }
        if order.orderType == "TRAIL" {
            let amount = order.auxPrice ?? 0, percent = order.trailingPercent ?? 0
            guard (amount > 0) != (percent > 0), amount.isFinite, percent.isFinite, percent < 100 else {
                return (201, "Order rejected - reason:A TRAIL order needs a trailing amount (auxPrice) or a trailing percent, one of them")
            }
        }
        if !order.ocaGroup.isEmpty && ![0, 1, 2, 3].contains(order.ocaType) {
            return (201, "Order rejected - reason:ocaType must be 1 (cancel), 2 (reduce with block) or 3 (reduce without block)")
        }
        let needsLimit = order.orderType == "LMT" || order.orderType == "STP LMT"
        let needsStop = order.orderType == "STP" || order.orderType == "STP LMT"
        if needsLimit {
            guard let limit = order.lmtPrice, limit > 0 else {
                return (201, "Order rejected - reason:A \(order.orderType) order needs a positive limit price")
            }
            guard instrument.conforms(limit) else {
                return (110, "The price does not conform to the minimum price variation for this contract.")
            }
        }
        if needsStop {
            guard let stop = order.auxPrice, stop > 0 else {
                return (201, "Order rejected - reason:A \(order.orderType) order needs a positive stop (aux) price")
            }
            guard instrument.conforms(stop) else {
                return (110, "The price does not conform to the minimum price variation for this contract.")
            }
        }
        if order.whatIf {
            return (201, "Order rejected - reason:What-if orders are not simulated by the paper gateway")
        }
        return nil
    }

    private func reject(_ session: GatewaySession, key: OrderKey, instrument: Instrument, request: PlaceOrder, code: Int, text: String) {
        var paper = PaperOrder(orderId: key.orderId, clientId: key.clientId, permId: nextPermId, contract: instrument.contract,
                               order: request.order)
        nextPermId += 1
        paper.status = "Inactive"
        orders[key] = paper
        orderSequence.append(key)
        compactFinishedOrders()
        session.sendError(key.orderId, code, text)
        session.send(.orderStatus(paper.statusMessage))
        logger.info("order \(key.clientId)/\(key.orderId) rejected: \(code) \(text)")
        save(paper)
    }

    private func modify(_ session: GatewaySession, _ paper: inout PaperOrder, _ request: PlaceOrder) {
        guard !paper.isDone else {
            if paper.status == "Filled" {
                session.sendError(request.orderId, 104, "Can't modify a filled order")
            } else {
                session.sendError(request.orderId, 103, "Duplicate order id")
            }
            return
        }
        guard let instrument = market.instrument(symbol: paper.contract.localSymbol) else { return }
        if let reason = rejection(of: request.order, instrument: instrument, session: session) {
            // A refused modification leaves the working order as it was.
            session.sendError(request.orderId, reason.code, reason.text)
            return
        }
        guard (request.order.totalQuantity?.doubleValue ?? 0) >= paper.filled else {
            session.sendError(request.orderId, 201, "Order rejected - reason:The new quantity is below the \(paper.filled) shares already filled")
            return
        }
        let wasReleased = isReleased(paper)
        paper.order.totalQuantity = request.order.totalQuantity
        paper.order.orderType = request.order.orderType
        paper.order.lmtPrice = request.order.lmtPrice
        paper.order.auxPrice = request.order.auxPrice
        paper.order.tif = request.order.tif.isEmpty ? paper.order.tif : request.order.tif
        paper.order.outsideRth = request.order.outsideRth
        // As at TWS: an order once transmitted stays transmitted (a modification sent with
        // transmit off is not withdrawn from the market); a staged one goes with transmit on.
        paper.order.transmit = paper.order.transmit || request.order.transmit
        if paper.order.orderType == "LMT" || paper.order.orderType == "MKT" { paper.triggered = false }
        if !wasReleased && isReleased(paper) && paper.status == "PreSubmitted" && !isStopWaiting(paper) { paper.status = "Submitted" }
        logger.info("order \(paper.clientId)/\(paper.orderId) modified")
        orders[OrderKey(clientId: paper.clientId, orderId: paper.orderId)] = paper
        report(paper)
        matchOrders()
        paper = orders[OrderKey(clientId: paper.clientId, orderId: paper.orderId)]!
    }

    /// Transmitted, and (for a child) its parent filled.
    func isReleased(_ paper: PaperOrder) -> Bool {
        let parentFilled = paper.order.parentId != 0 && orders[OrderKey(clientId: paper.clientId, orderId: paper.order.parentId)]?.status == "Filled"
        return OrderFamily.isReleased(transmitted: paper.order.transmit, parentId: paper.order.parentId, parentFilled: parentFilled)
    }

    func isStopWaiting(_ paper: PaperOrder) -> Bool { paper.fillOrder?.isWaitingForTrigger ?? false }

    /// With regular hours switched on, orders without outsideRth wait for the open.
    func marketOpen(for paper: PaperOrder) -> Bool {
        guard config.market.regularHoursOnly, !paper.order.outsideRth else { return true }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let date = Date(timeIntervalSince1970: now)
        let weekday = calendar.component(.weekday, from: date)
        let minutes = calendar.component(.hour, from: date) * 60 + calendar.component(.minute, from: date)
        return (2...6).contains(weekday) && minutes >= 9 * 60 + 30 && minutes < 16 * 60
    }

    private func releaseStaged(clientId: Int, parentId: Int) {
        let family = orders.filter { $0.key.clientId == clientId && ($0.key.orderId == parentId || $0.value.order.parentId == parentId) }
        for (key, var paper) in family where !paper.order.transmit && paper.isWorking {
            paper.order.transmit = true
            if isReleased(paper) && !isStopWaiting(paper) && marketOpen(for: paper) { paper.status = "Submitted" }
            orders[key] = paper
            report(paper)
            save(paper)
        }
    }

    /// Sends openOrder and orderStatus to the order's owner.
    func report(_ paper: PaperOrder) {
        guard let owner = clients.first(where: { $0.clientId == paper.clientId }) else { return }
        owner.send(.openOrder(paper.openOrderMessage(account: paper.order.account.isEmpty ? defaultAccount : paper.order.account)))
        owner.send(.orderStatus(paper.statusMessage))
    }

    /// Lets every working order (or, with `onlySymbol`, every one on that instrument) meet the
    /// current quotes, in the order they arrived.
    func matchOrders(onlySymbol: String? = nil) {
        for key in orderSequence {
            guard var paper = orders[key], paper.isWorking,
                  onlySymbol == nil || paper.contract.localSymbol == onlySymbol,
                  isReleased(paper), marketOpen(for: paper),
                  let quote = market.quote(symbol: paper.contract.localSymbol)
            else { continue }
            let wasWaiting = isStopWaiting(paper)
            let shown = Double(paper.isBuy ? quote.askSize : quote.bidSize)
            let fill = paper.match(quote: quote, maxShares: config.fills.partialFills ? shown : nil)
            if wasWaiting && paper.triggered {
                paper.status = "Submitted"
                orders[key] = paper
                report(paper)
            }
            guard let fill else {
                if paper.order.tif == "IOC" && paper.status == "Submitted" { cancel(&paper, reason: "IOC order not marketable") }
                orders[key] = paper
                continue
            }
            execute(&paper, shares: fill.shares, price: fill.price)
            if paper.order.tif == "IOC" && paper.isWorking { cancel(&paper, reason: "IOC remainder") }
            orders[key] = paper
            settleGroup(of: paper, filled: fill.shares)
            if paper.status == "Filled" { afterFill(paper) }
        }
    }

    /// One execution: the account moves first, then the owner is told (execDetails,
    /// orderStatus, openOrder once filled, commissionReport), then the other subscribers.
    private func execute(_ paper: inout PaperOrder, shares: Double, price: Double) {
        let instrument = market.instrument(symbol: paper.contract.localSymbol)
        let terms = instrument?.terms ?? InstrumentTerms(currency: paper.contract.currency)
        let rates = exchangeRates()
        let commission = config.fills.commission.charge(terms, quantity: shares, price: price,
                                                        before: OrderSoFar(quantity: paper.filled,
                                                                           value: paper.filled * paper.averageFillPrice * terms.multiplier,
                                                                           paid: paper.commissionPaid),
                                                        rates: rates)
        let account = paper.order.account.isEmpty ? defaultAccount : paper.order.account
        let execId = String(format: "%08x.%08x.01.01", instanceId, executions.count + 1)
        accounts[account]?.use(rates: rates)
        let realized = accounts[account]?.apply(symbol: paper.contract.localSymbol, conId: paper.contract.conId, terms: terms, execId: execId,
                                                buy: paper.isBuy, quantity: shares, price: price, commission: commission)
        paper.recordFill(shares: shares, price: price, commission: commission.amount)
        var execution = Execution()
        execution.orderId = paper.orderId
        execution.execId = execId
        execution.time = BarHistory.format(Int(now), zone: zone)
        execution.acctNumber = account
        execution.exchange = paper.contract.primaryExchange == "NASDAQ" ? "ISLAND" : paper.contract.secType == "STK" ? paper.contract.primaryExchange : paper.contract.exchange
        execution.side = paper.isBuy ? "BOT" : "SLD"
        execution.shares = TWSDecimal(approximating: shares)
        execution.price = price
        execution.permId = paper.permId
        execution.clientId = paper.clientId
        execution.cumQty = TWSDecimal(approximating: paper.filled)
        execution.avgPrice = (paper.averageFillPrice * 10000).rounded() / 10000
        execution.orderRef = paper.order.orderRef
        execution.lastLiquidity = 2
        let report = CommissionReport(execId: execution.execId, commission: commission.amount, currency: commission.currency,
                                      realizedPNL: realized.map { ($0 * 100).rounded() / 100 })
        let record = ExecutionRecord(contract: paper.contract, execution: execution, commission: report, time: now)
        executions.append(record)
        save(paper)
        save(record)
        saveAccounts()
        logger.info("fill \(paper.clientId)/\(paper.orderId): \(execution.side) \(shares) \(paper.contract.localSymbol) @ \(price)")
        if let owner = clients.first(where: { $0.clientId == paper.clientId }) {
            var details = ExecDetails(reqId: -1, contract: paper.contract, execution: execution)
            details.contract.exchange = execution.exchange
            owner.send(.execDetails(details))
            owner.send(.orderStatus(paper.statusMessage))
            if paper.status == "Filled" {
                owner.send(.openOrder(paper.openOrderMessage(account: account)))
                owner.send(.orderStatus(paper.statusMessage))  // TWS repeats the final status
            }
            owner.send(.commissionReport(report))
        }
        publishAccount(account, symbol: paper.contract.localSymbol)
    }

    /// A filled parent releases its children; a filled OCA member cancels its group.
    private func afterFill(_ paper: PaperOrder) {
        for key in orderSequence {
            guard var other = orders[key], other.isWorking, other.clientId == paper.clientId, other.orderId != paper.orderId else { continue }
            if other.order.parentId == paper.orderId && other.status == "PreSubmitted" && isReleased(other)
                && !isStopWaiting(other) && marketOpen(for: other)
            {
                other.status = "Submitted"
                orders[key] = other
                report(other)
                save(other)
            }
        }
    }

    /// One fill of an order in a one-cancels-all group (an `ocaGroup`, or the take-profit and
    /// stop-loss children of one bracket): Money's rule (`GroupSettlement`), the backtest's
    /// too: with ocaType 1 the others are cancelled at the first fill; with 2 or 3 (and a
    /// bracket's children) they are reduced by what filled, and cancelled once nothing is
    /// left of them. In id order, whatever order the orders are kept in.
    private func settleGroup(of paper: PaperOrder, filled shares: Double) {
        guard paper.family.isGrouped else { return }
        let members = orderSequence.compactMap { key -> GroupMember? in
            guard let other = orders[key], other.isWorking, other.clientId == paper.clientId else { return nil }
            return GroupMember(id: other.orderId, family: other.family, remaining: other.remaining)
        }
        for settlement in GroupSettlement.settle(filled: shares, by: paper.orderId, family: paper.family, others: members) {
            let key = OrderKey(clientId: paper.clientId, orderId: settlement.id)
            guard var other = orders[key], other.isWorking else { continue }
            switch settlement {
            case let .cancel(_, reason):
                cancel(&other, reason: reason)
            case let .reduce(_, by):
                other.order.totalQuantity = TWSDecimal(approximating: other.quantity - by)
                report(other)
            }
            orders[key] = other
            save(other)
        }
    }

    func cancel(_ paper: inout PaperOrder, reason: String) {
        paper.status = "Cancelled"
        save(paper)
        if let owner = clients.first(where: { $0.clientId == paper.clientId }) {
            owner.send(.orderStatus(paper.statusMessage))
            owner.sendError(paper.orderId, 202, "Order Canceled - reason:\(reason)")
        }
        // Children of a cancelled parent go with it.
        for key in orderSequence where orders[key]?.order.parentId == paper.orderId && orders[key]?.clientId == paper.clientId {
            guard var child = orders[key], child.isWorking else { continue }
            cancel(&child, reason: "parent order \(paper.orderId) cancelled")
            orders[key] = child
        }
    }

    func cancelOrder(_ session: GatewaySession, _ orderId: Int) {
        guard let clientId = session.clientId else { return }
        let key = OrderKey(clientId: clientId, orderId: orderId)
        guard var paper = orders[key] else {
            session.sendError(orderId, 10147, "OrderId \(orderId) that needs to be cancelled is not found.")
            return
        }
        guard paper.isWorking else {
            session.sendError(orderId, 10148, "OrderId \(orderId) that needs to be cancelled cannot be cancelled, state: \(paper.status).")
            return
        }
        cancel(&paper, reason: "")
        orders[key] = paper
    }

    func globalCancel() {
        for key in orderSequence {
            guard var paper = orders[key], paper.isWorking else { continue }
            cancel(&paper, reason: "global cancel")
            orders[key] = paper
        }
    }

    func reportOpenOrders(_ session: GatewaySession, allClients: Bool) {
        for key in orderSequence {
            guard let paper = orders[key], paper.isWorking, allClients || paper.clientId == session.clientId else { continue }
            session.send(.openOrder(paper.openOrderMessage(account: paper.order.account.isEmpty ? defaultAccount : paper.order.account)))
            session.send(.orderStatus(paper.statusMessage))
        }
        session.send(.openOrderEnd(OpenOrderEnd()))
    }

    func reportCompletedOrders(_ session: GatewaySession, apiOnly: Bool) {
        for key in orderSequence {
            guard let paper = orders[key], paper.isDone else { continue }
            let account = paper.order.account.isEmpty ? defaultAccount : paper.order.account
            var completed = CompletedOrder(contract: paper.contract, order: paper.openOrderMessage(account: account).order,
                                           orderState: OrderState(status: paper.status))
            completed.orderState.completedStatus = paper.status
            completed.order.filledQuantity = TWSDecimal(approximating: paper.filled)
            session.send(.completedOrder(completed))
        }
        session.send(.completedOrdersEnd(CompletedOrdersEnd()))
    }

    func reportExecutions(_ session: GatewaySession, _ request: ReqExecutions) {
        let filter = request.filter
        let since = filter.time.isEmpty ? nil : BarHistory.parseEndDate(filter.time, defaultZone: zone)?.timeIntervalSince1970
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        for record in executions {
            let e = record.execution
            if filter.clientId != 0 && e.clientId != filter.clientId { continue }
            if !filter.acctCode.isEmpty && e.acctNumber != filter.acctCode { continue }
            if let since, record.time < since { continue }
            if !filter.symbol.isEmpty && record.contract.symbol != filter.symbol.uppercased() { continue }
            if !filter.secType.isEmpty && record.contract.secType != filter.secType { continue }
            if !filter.exchange.isEmpty && filter.exchange != "SMART" && e.exchange != filter.exchange { continue }
            if !filter.side.isEmpty {
                let buy = ["BUY", "BOT"].contains(filter.side.uppercased())
                if buy != (e.side == "BOT") { continue }
            }
            if let days = filter.lastNDays, now - record.time > Double(days) * 86400 { continue }
            if !filter.specificDates.isEmpty {
                let day = Int(BarHistory.format(Int(record.time), zone: zone, dateOnly: true)) ?? 0
                if !filter.specificDates.contains(day) { continue }
            }
            var details = ExecDetails(reqId: request.reqId, contract: record.contract, execution: e)
            details.contract.exchange = e.exchange
            session.send(.execDetails(details))
            session.send(.commissionReport(record.commission))
        }
        session.send(.execDetailsEnd(ExecDetailsEnd(reqId: request.reqId)))
    }
}
