import Foundation
import LuaRuntime
import Money
import TWSProtocol
import TradingState

/// Placing orders from Lua: the order's terms, the instrument TWS confirmed, a price to value
/// it by, the risk gate, then TWS under ids taken in call order. Single orders, one-cancels-all
/// groups, trailing stops, and brackets (parent and two children sent as one).
extension Strategy {
    /// orders.buy / sell / place: the terms from `options`, then `route`. Errors name the
    /// quantity and the options as the call has them (`argument 2 (qty)`, `options.limit`;
    /// orders.place: `order.qty`, `order.limit`).
    func place(_ call: LuaCall, side: String, instrument: InstrumentSpec, quantity: Double, quantityName: String = "argument 2 (qty)",
               options: LuaValue, optionsName: String = "options") throws -> LuaCall.Result
    {
        try requireHandler(call)
        if let refusal = orderFlowRefusal(call) { return .values(refusal) }
        var order = try terms(call, side: side, quantity: quantity, quantityName: quantityName, options: options, optionsName: optionsName)
        let oca = try LuaCall.field(options, "oca", string: call, optionsName)
        if let oca {
            order.ocaGroup = try LuaChecked.text(oca, "\(call.name): \(optionsName).oca")
            let kind = try LuaCall.field(options, "oca_type", string: call, optionsName) ?? "cancel"
            guard let type = ["cancel": 1, "reduce": 3, "reduce_block": 2][kind] else {
                throw LuaArgumentError("\(call.name): \(optionsName).oca_type must be \"cancel\", \"reduce\" or \"reduce_block\", got \(LuaChecked.excerpt(kind))")
            }
            order.ocaType = type
        }
        let buy = side == "BUY"
        if let unsendable = unsendable(call.name, instrument.contract, [order]) { return .values(unsendable) }
        let callName = call.name
        return try route(call, instrument: instrument, buy: buy, quantity: quantity, limit: order.lmtPrice,
                         stop: order.orderType == "TRAIL" ? nil : order.auxPrice) { [unowned self] contract, price in
            self.send(contract, order, valuedAt: price, call: callName)
        }
    }

    /// orders.bracket(instrument, qty, { entry =, take_profit =, stop_loss =, side =, tif = }):
    /// the entry (a limit, or market without `entry`), then a take-profit limit and a stop on
    /// the other side, children of the entry: they work once it fills, each cancels (or, on a
    /// partial fill, reduces) the other. Checked by the risk gate as a whole; all three go or
    /// none. Returns `{ parent =, take_profit =, stop_loss = }`.
    func bracket(_ call: LuaCall) throws -> LuaCall.Result {
        try requireHandler(call)
        if let refusal = orderFlowRefusal(call) { return .values(refusal) }
        let instrument = try self.instrument(call)
        let quantity = try LuaChecked.number(try call.number(2, "qty"), "\(call.name): argument 2 (qty)", in: APIBounds.quantity)
        guard let options = try call.table(3, "legs") else { throw LuaArgumentError("\(call.name): argument 3 (legs) is required") }
        let side = (try LuaCall.field(options, "side", string: call, "legs") ?? "BUY").uppercased()
        guard side == "BUY" || side == "SELL" else { throw LuaArgumentError("\(call.name): legs.side must be \"BUY\" or \"SELL\"") }
        let buy = side == "BUY"
        func price(_ key: String) throws -> Double? {
            try LuaCall.field(options, key, number: call, "legs").map { try LuaChecked.number($0, "\(call.name): legs.\(key)", in: APIBounds.price) }
        }
        let entry = try price("entry")
        guard let take = try price("take_profit"), let stopLoss = try price("stop_loss") else {
            throw LuaArgumentError("\(call.name): legs.take_profit and legs.stop_loss are required")
        }
        // Legs the wrong way round are a mistake in the strategy's logic: they raise.
        guard buy ? take > stopLoss : take < stopLoss else {
            throw LuaArgumentError("\(call.name): a \(buy ? "long" : "short") bracket needs take_profit \(buy ? "above" : "below") stop_loss")
        }
        if let entry, buy ? !(entry < take && entry > stopLoss) : !(entry > take && entry < stopLoss) {
            throw LuaArgumentError("\(call.name): the entry \(entry) must lie between stop_loss and take_profit")
        }
        let exit = buy ? "SELL" : "BUY"
        var legs: [String: LuaValue] = ["limit": entry.map { .number($0) } ?? .nil]
        if let tif = options["tif"].string { legs["tif"] = .string(tif) }
        let parent = try terms(call, side: side, quantity: quantity, options: .table(Dictionary(uniqueKeysWithValues: legs.map { (.string($0.key), $0.value) })))
        var profit = Order(action: exit, quantity: TWSDecimal(approximating: quantity), type: "LMT", limit: take, tif: parent.tif)
        var loss = Order(action: exit, quantity: TWSDecimal(approximating: quantity), type: "STP", stop: stopLoss, tif: parent.tif)
        profit.outsideRth = parent.outsideRth
        loss.outsideRth = parent.outsideRth
        if let unsendable = unsendable(call.name, instrument.contract, [parent, profit, loss]) { return .values(unsendable) }
        let callName = call.name
        return try route(call, instrument: instrument, buy: buy, quantity: quantity, limit: entry, stop: nil) { [unowned self] contract, price in
            self.sendBracket(contract, parent: parent, takeProfit: profit, stopLoss: loss, valuedAt: price, call: callName)
        }
    }

    /// An order's terms: type from limit / stop / trail (or `type`), time in force, outside RTH.
    /// `quantity` is the call's own (argument 2, or order.qty: `quantityName` says which).
    private func terms(_ call: LuaCall, side: String, quantity: Double, quantityName: String = "argument 2 (qty)",
                       options: LuaValue, optionsName: String = "options") throws -> Order
    {
        let quantity = try LuaChecked.number(quantity, "\(call.name): \(quantityName)", in: APIBounds.quantity)
        func number(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
            try LuaCall.field(options, key, number: call, optionsName).map { try LuaChecked.number($0, "\(call.name): \(optionsName).\(key)", in: range) }
        }
        let limit = try number("limit", in: APIBounds.price)
        let stop = try number("stop", in: APIBounds.price)
        let trail = try number("trail", in: APIBounds.price)
        let trailPercent = try number("trail_percent", in: APIBounds.trailPercent)
        if trail != nil || trailPercent != nil {
            guard (trail == nil) != (trailPercent == nil), limit == nil else {
                throw LuaArgumentError("\(call.name): a trailing stop takes trail (an amount) or trail_percent, one of them, and no limit")
            }
            if let trailPercent, trailPercent >= 100 { throw LuaInvalidArgument("\(call.name): \(optionsName).trail_percent \(trailPercent) must be below 100") }
        }
        let tif = try LuaCall.field(options, "tif", string: call, optionsName)?.uppercased() ?? "DAY"
        guard tif == "DAY" || tif == "GTC" else { throw LuaArgumentError("\(call.name): tif must be \"DAY\" or \"GTC\", got \(LuaChecked.excerpt(tif))") }
        var type = trail != nil || trailPercent != nil ? "TRAIL" : limit != nil && stop != nil ? "STP LMT" : limit != nil ? "LMT" : stop != nil ? "STP" : "MKT"
        if let requested = try LuaCall.field(options, "type", string: call, optionsName)?.uppercased(), type != "TRAIL" {
            guard ["MKT", "LMT", "STP", "STP LMT"].contains(requested) else {
                throw LuaArgumentError("\(call.name): type must be \"MKT\", \"LMT\", \"STP\" or \"STP LMT\", got \(LuaChecked.excerpt(requested))")
            }
            let needsLimit = requested == "LMT" || requested == "STP LMT"
            let needsStop = requested == "STP" || requested == "STP LMT"
            if needsLimit && limit == nil { throw LuaArgumentError("\(call.name): a \(requested) order needs limit") }
            if needsStop && stop == nil { throw LuaArgumentError("\(call.name): a \(requested) order needs stop") }
            type = requested
        }
        let outsideRth = try LuaCall.field(options, "outside_rth", bool: call, optionsName) ?? false
        let given = OrderTerms(side: side, quantity: quantity, type: type, limit: limit, aux: type == "TRAIL" ? trail : stop, tif: tif,
                               trailingPercent: type == "TRAIL" ? trailPercent : nil, trailStart: type == "TRAIL" ? stop : nil,
                               outsideRth: outsideRth)
        if let known = recentTerms.first(where: { $0.terms == given }) { return known.order }
        var order = Order(action: side, quantity: TWSDecimal(approximating: quantity), type: type, limit: limit, stop: given.aux, tif: tif)
        if type == "TRAIL" {
            order.trailingPercent = trailPercent
            order.trailStopPrice = stop  // where it starts, when given
        }
        order.outsideRth = outsideRth
        if recentTerms.count == 8 { recentTerms.removeFirst() }
        recentTerms.append((given, order))
        return order
    }

    /// Finds the contract TWS confirmed and a price to value the order by, waiting for either
    /// when it must (other events keep coming), then hands both to `submit` (on the loop).
    private func route(_ call: LuaCall, instrument: InstrumentSpec, buy: Bool, quantity: Double, limit: Double?, stop: Double?,
                       submit: @escaping (Contract, Double) -> [LuaValue]) throws -> LuaCall.Result
    {
        let symbol = instrument.key
        guard instrument.contract.secType != "CONTFUT" else {
            return .values(LuaTables.failure("not_tradable", "\(call.name): \(symbol) is a continuous future, for quotes and history; "
                                                 + "trade a contract month (\(instrument.contract.symbol) YYYYMM)"))
        }
        guard let services else { return .values(LuaTables.failure("stopped", "the strategy is stopping")) }
        let reference = referencePrice(symbol, buy: buy, limit: limit, stop: stop) ?? services.latestPrice(symbol: symbol, buy: buy)
        // What TWS confirmed of the instrument. A stock with quotes is one TWS knows and can be
        // sent as named; anything else is sent by the contract TWS resolved (with its conId).
        let isStock = instrument.contract.secType == "STK"
        let quoted = quotes[symbol] != nil || services.latestPrice(symbol: symbol, buy: buy) != nil
        // Asked as named: a table with a con_id, exchange or currency of its own is answered
        // for itself, never by what plain AAPL resolved to (nor refused because of it).
        let lookup = instrument.lookupKey { try? self.instrument(.string($0), call: call.name, parameter: "") }
        let status = quoted && isStock && lookup == symbol ? .resolved : services.instrumentStatus(lookup)
        if case let .unknown(why) = status { return .values(refuseUnknown(call.name, why)) }
        let resolved = services.resolvedContract(lookup)
        if let reference, let contract = resolved ?? (isStock && status != .unresolved ? instrument.contract : nil) {
            return .values(submit(contract, reference))
        }
        // The call waits: for TWS to say whether it knows the instrument, for a price to value
        // the order by (a snapshot of the market), or both. Then the order is checked in full
        // and sent, or refused. Its id is taken only then, so ids still reach TWS in order.
        let intent = OrderIntent(symbol: symbol, buy: buy, quantity: quantity, referencePrice: reference,
                                 terms: (resolved ?? instrument.contract).terms)
        if let refusal = gate.preflight(intent, exposure: exposure(symbol), openOrders: openOrderCount, now: currentTime) {
            return .values(refuse(refusal))
        }
        guard call.canSuspend else {
            // Where nothing can wait: a stock order with a price goes (TWS's rejection of an
            // unknown one reaches on_error); anything else cannot be checked here.
            if let reference, isStock { return .values(submit(instrument.contract, reference)) }
            return .values(refuse(RiskRefusal(code: "no_price", message: "risk: no price to value an order for \(symbol) here (where the "
                                                  + "call cannot wait for one): give it a limit, or subscribe to its quotes first")))
        }
        let callName = call.name
        return try wait(call, finish: { [unowned self] values in
            if case .string("unknown")? = values.first { return self.refuseUnknown(callName, values.count > 1 ? values[1].string ?? "" : "") }
            guard case let .number(price)? = values.first else {
                let why = values.count > 1 ? (values[1]["message"].string ?? "") : ""
                return self.refuse(RiskRefusal(code: "no_price", message: "risk: no price to value an order for \(symbol): TWS gave no "
                                                   + "snapshot\(why.isEmpty ? "" : " (\(why))"); give it a limit, or subscribe to its quotes first"))
            }
            guard let contract = self.services?.resolvedContract(lookup) ?? (isStock ? instrument.contract : nil) else {
                return self.refuseUnknown(callName, "TWS did not confirm \(symbol) in time")
            }
            return submit(contract, price)
        }) { services in
            if case let .unknown(why) = await services.resolveInstrument(instrument) { return [.string("unknown"), .string(why)] }
            if let reference { return [.number(reference)] }
            guard let price = try await services.snapshotPrice(instrument, buy: buy) else { return [] }
            return [.number(price)]
        }
    }

    /// An order on an instrument TWS does not know: `nil, err` at the call, told to on_error,
    /// logged once a line.
    func refuseUnknown(_ callName: String, _ why: String) -> [LuaValue] {
        statistics.ordersRefused += 1
        let message = "\(callName): \(why); the order was not sent"
        services?.journal(strategy: name, kind: "refusal", detail: message)
        logger.warning("\(message)")
        enqueue(.error(code: "unknown_instrument", message: message, orderId: nil))
        return LuaTables.failure("unknown_instrument", message)
    }

    /// The risk gate in full, then the order goes to TWS under an id taken now. Returns the
    /// id, or `nil, err` for a refusal.
    func send(_ contract: Contract, _ order: Order, valuedAt price: Double, call: String) -> [LuaValue] {
        if let closed = services?.orderFlowClosed { return LuaTables.failure(closed.code, "orders: \(closed.message)") }
        if let unsendable = unsendable(call, contract, [order]) { return unsendable }
        if let refusal = check(contract, order, valuedAt: price, on: &gate) { return refuse(refusal) }
        switch submit(contract, order) {
        case let .success(id): return [.integer(Int64(id))]
        case let .failure(refusal): return refuse(refusal)
        }
    }

    /// A bracket: the gate checks all three legs (the children as if the entry had filled)
    /// before any leaves; then the entry and the take-profit go staged and the stop-loss
    /// transmits the three. A leg refused on the way takes the ones before it back.
    func sendBracket(_ contract: Contract, parent: Order, takeProfit: Order, stopLoss: Order, valuedAt price: Double, call: String) -> [LuaValue] {
        if let closed = services?.orderFlowClosed { return LuaTables.failure(closed.code, "orders: \(closed.message)") }
        if let unsendable = unsendable(call, contract, [parent, takeProfit, stopLoss]) { return unsendable }
        var trial = gate
        let rates = currentRates
        if let refusal = check(contract, parent, valuedAt: price, on: &trial, rates: rates) { return refuse(refusal) }
        var afterEntry = exposure(contract.instrumentKey)
        afterEntry.position += parent.action == "BUY" ? parent.quantity : -parent.quantity
        for leg in [takeProfit, stopLoss] {
            let intent = OrderIntent(symbol: contract.instrumentKey, buy: leg.action == "BUY", quantity: leg.quantity,
                                     referencePrice: leg.lmtPrice ?? leg.auxPrice ?? price, terms: contract.terms)
            if let refusal = trial.check(intent, exposure: afterEntry, openOrders: openOrderCount + 1, now: currentTime, rates: rates) {
                return refuse(refusal)
            }
        }
        gate = trial
        var staged = parent
        staged.transmit = false
        guard case let .success(parentId) = submit(contract, staged) else { return refuse(RiskRefusal(code: "account", message: "risk: the account's limits refuse the entry")) }
        var ids = [parentId]
        for (index, var leg) in [takeProfit, stopLoss].enumerated() {
            leg.parentId = parentId
            leg.transmit = index == 1
            switch submit(contract, leg) {
            case let .success(id):
                ids.append(id)
            case let .failure(refusal):
                for id in ids { services?.cancel(id: id) }
                return refuse(refusal)
            }
        }
        return [.record(["parent": .integer(Int64(ids[0])), "take_profit": .integer(Int64(ids[1])), "stop_loss": .integer(Int64(ids[2]))])]
    }

    /// `nil, err` when TWS or the journal could not take one of `orders` on `contract`: each is
    /// encoded here as the journal and the client will encode it (IB's own client's rules:
    /// printable ASCII, ...). Checked at the call, before an id is taken, so a field nobody can
    /// send is this call's error alone, not a journal failure that closes trading for all.
    ///
    /// The encoding depends on nothing but the contract and the order, so the last few that
    /// encoded are remembered: a strategy sends the same few orders again and again, and each
    /// is checked twice (as named, then on the contract TWS confirmed).
    func unsendable(_ call: String, _ contract: Contract, _ orders: [Order]) -> [LuaValue]? {
        for order in orders where !encodedBefore(order, on: contract) {
            do {
                _ = try PlaceOrder(orderId: 1, contract: contract, order: order).payload(serverVersion: ServerVersion.supported.upperBound, style: .python)
            } catch {
                return LuaTables.failure(LuaInvalidArgument.code, "\(call): the order cannot be sent to TWS: \(error)")
            }
            if encodable.count == 8 { encodable.removeFirst() }
            encodable.append(EncodedOrder(contract: contract, order: order))
        }
        return nil
    }

    /// The gate's verdict on one order, on the terms of the contract TWS confirmed (quantities
    /// per its type; valued with its multiplier in the account's base currency: one ES
    /// contract at 5450 is 272,500 USD of notional); nil when it passes.
    private func check(_ contract: Contract, _ order: Order, valuedAt price: Double, on gate: inout RiskGate,
                       rates: CurrencyRates? = nil) -> RiskRefusal?
    {
        let intent = OrderIntent(symbol: contract.instrumentKey, buy: order.action == "BUY", quantity: order.quantity,
                                 referencePrice: price, terms: contract.terms)
        return gate.check(intent, exposure: exposure(contract.instrumentKey), openOrders: openOrderCount, now: currentTime,
                          rates: rates ?? currentRates)
    }

    /// The account's base currency and exchange rates now, for the risk gate.
    var currentRates: CurrencyRates { services?.rates() ?? CurrencyRates() }

    /// Takes the next id and queues the order (the account's limits are checked there);
    /// records it as the strategy's.
    private func submit(_ contract: Contract, _ order: Order) -> Result<Int, RiskRefusal> {
        guard let services else { return .failure(RiskRefusal(code: "stopped", message: "the strategy is stopping")) }
        let id: Int
        do {
            id = try services.submitNew(contract: contract, order: order, strategy: name)
        } catch let refusal as RiskRefusal {
            return .failure(refusal)
        } catch {
            return .failure(RiskRefusal(code: "error", message: "\(error)"))
        }
        var record = OrderRecord(clientKey: "", orderId: id, strategy: name, contract: contract, order: order,
                                 createdAt: currentTime)
        record.status = .pending
        remember(order: record)
        statistics.ordersPlaced += 1
        return .success(id)
    }
}

extension Order {
    public var quantity: Double { self.totalQuantity?.doubleValue ?? 0 }
}

extension Strategy {
    /// Whether `order` on `contract` encoded before: the very order (checked at the call, then
    /// on the contract TWS confirmed) by identity; another with the same fields by value, but
    /// only where its main terms match (comparing all the fields copies both orders' ~140 of
    /// them first). An order found by value takes its entry's place: found by identity next.
    private func encodedBefore(_ order: Order, on contract: Contract) -> Bool {
        if encodable.contains(where: { $0.order.isSameValue(as: order) && $0.contract == contract }) { return true }
        guard let index = encodable.firstIndex(where: { known in
            known.order.action == order.action && known.order.orderType == order.orderType && known.order.totalQuantity == order.totalQuantity
                && known.order.lmtPrice == order.lmtPrice && known.order.auxPrice == order.auxPrice && known.contract == contract
                && known.order == order
        }) else { return false }
        encodable[index] = EncodedOrder(contract: contract, order: order)
        return true
    }
}

/// What a call gives of an order's terms, all the fields `terms` sets: equal terms build equal
/// orders. Its numbers are checked first (positive, finite: APIBounds), so equal numbers are
/// the same number.
struct OrderTerms: Equatable {
    let side: String
    let quantity: Double
    let type: String
    let limit: Double?
    let aux: Double?
    let tif: String
    let trailingPercent: Double?
    let trailStart: Double?
    let outsideRth: Bool
}

/// An order and contract that encoded for TWS. A class: the look-up compares them in place,
/// where a tuple of two large structs would be copied for each comparison.
final class EncodedOrder {
    let contract: Contract
    let order: Order

    init(contract: Contract, order: Order) {
        self.contract = contract
        self.order = order
    }
}
