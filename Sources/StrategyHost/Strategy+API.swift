import Foundation
import LuaRuntime
import NIOCore
import TWSClient
import TWSProtocol
import TradingState

/// The ranges the API takes numbers in; past them a value is refused at the call with
/// `invalid_argument` (through `LuaChecked`). Wide enough for any real order, narrow enough
/// that no later product (notional, nanoseconds, a wire field) can overflow or trap.
enum APIBounds {
    /// Limit, stop, trail amount, bracket legs, an option's strike.
    static let price: ClosedRange<Double> = 1e-8...1e9
    /// Shares, contracts or currency units of one order (10 decimals at most reach TWS).
    static let quantity: ClosedRange<Double> = 1e-8...1e9
    /// Percent of a trailing stop (below 100: checked where it is read).
    static let trailPercent: ClosedRange<Double> = 1e-8...100
    /// A contract multiplier.
    static let multiplier: ClosedRange<Double> = 1e-8...1e6
    /// Timers: a millisecond to a year.
    static let timerSeconds: ClosedRange<Double> = 0.001...(366 * 86400)
    /// Order ids, TWS contract ids and timer ids (IB's are 32-bit).
    static let id: ClosedRange<Int64> = 0...Int64(Int32.max)
}

/// The Lua API of design.md: market.*, orders.*, account.*, timer.*, log.*, now(), and the
/// sandboxed print, collectgarbage and require. Wrong argument types raise a Lua error
/// naming the call and the argument; failed operations return `nil, { code =, message = }`.
/// A value of the right type out of range answers `nil, { code = "invalid_argument" }`.
extension Strategy {
    func registerAPI() {
        registerMarket()
        registerOrders()
        registerAccount()
        registerTimers()
        registerLogAndBasics()
        for item in services?.extensions ?? [] { register(item) }
    }

    /// Registers a built-in function. A value it cannot take (`LuaInvalidArgument`: out of
    /// range, not finite, text TWS would refuse) is answered `nil, { code = "invalid_argument",
    /// message = }` at the call, before anything is taken or sent; a wrong type still raises.
    private func define(_ table: String?, _ name: String, _ body: @escaping (LuaCall) throws -> LuaCall.Result) {
        lua.register(table: table, name: name) { call in
            do {
                return try body(call)
            } catch let invalid as LuaInvalidArgument {
                return .values(LuaTables.failure(LuaInvalidArgument.code, invalid.message))
            }
        }
    }

    /// An embedding application's functions, with the built-in API's checks (LuaExtension).
    private func register(_ item: LuaExtension) {
        for (name, function) in item.functions {
            define(item.table, name) { [unowned self] call in
                let arguments = try ExtensionArguments(call: call, strategy: self.name)
                switch function {
                case let .immediate(body):
                    do {
                        return .values(try body(arguments))
                    } catch let error as LuaArgumentError {
                        throw error
                    } catch let invalid as LuaInvalidArgument {
                        return .values(LuaTables.failure(LuaInvalidArgument.code, invalid.message))
                    } catch let error as ExtensionError {
                        return .values(LuaTables.failure(error.code, "\(call.name): \(error.message)"))
                    } catch {
                        return .values(LuaTables.failure("error", "\(call.name): \(error)"))
                    }
                case let .waiting(body):
                    let work = try body(arguments)  // its LuaInvalidArgument is answered by define
                    return try self.wait(call) { _ in try await work() }
                }
            }
        }
    }

    /// The instrument argument: a string (`AAPL`, `EUR.USD`, `ES 202612`, ...) or a table.
    func instrument(_ call: LuaCall, _ index: Int = 1) throws -> InstrumentSpec {
        let value = try call.value(index, "instrument")
        return try instrument(value, call: call.name, parameter: "argument \(index) (instrument)")
    }

    func instrument(_ value: LuaValue, call: String, parameter: @autoclosure () -> String) throws -> InstrumentSpec {
        switch value {
        case let .string(text):
            // Strategies name the same few instruments on every bar: each is parsed once.
            if let known = parsedInstruments[text] { return known }
            do {
                let spec = try InstrumentSpec.parse(text)
                if parsedInstruments.count >= 256 { parsedInstruments.removeAll() }
                parsedInstruments[text] = spec
                return spec
            } catch let error as InstrumentSpecError {
                throw LuaArgumentError("\(call): \(parameter()) \(error.description)")
            }
        case .table:
            return try InstrumentSpec.from(table: value, call: call, parameter: parameter())
        default:
            throw LuaArgumentError("\(call): \(parameter()) must be an instrument (\(InstrumentSpec.grammar)), got \(value.typeName)")
        }
    }

    // MARK: market

    private func registerMarket() {
        define("market", "subscribe") { [unowned self] call in
            try self.requireHandler(call)
            let instrument = try self.instrument(call)
            let symbol = instrument.key
            let options = try call.table(2, "options", optional: true) ?? .table([:])
            var quotes = true
            if case let .bool(flag) = options["quotes"] { quotes = flag }
            let bars = try LuaCall.field(options, "bars", string: call, "options")
            if let bars {
                let what = "market.subscribe: options.bars"
                guard let period = BarPeriod(size: try LuaChecked.text(bars, what, maxBytes: 32)) else {
                    throw LuaInvalidArgument("\(what) \(LuaChecked.excerpt(bars)) must be \(BarPeriod.accepted)")
                }
                // Subscribing again (a reload runs on_start again) keeps the bar under way:
                // a day bar is not lost to a save.
                if self.barBuilders["\(symbol)|\(bars)"] == nil {
                    self.barBuilders["\(symbol)|\(bars)"] = BarAggregator(size: bars, period: period, dropsPartialFirst: period.isCalendar)
                }
            }
            self.services?.subscribe(instrument, quotes: quotes, barSize: bars, strategy: self)
            return .values([.bool(true)])
        }
        define("market", "unsubscribe") { [unowned self] call in
            try self.requireHandler(call)
            let symbol = try self.instrument(call).key
            self.barBuilders = self.barBuilders.filter { !$0.key.hasPrefix(symbol + "|") }
            self.services?.unsubscribe(key: symbol, strategy: self)
            return .values([.bool(true)])
        }
        define("market", "quote") { [unowned self] call in
            let symbol = try self.instrument(call).key
            return .values([self.currentQuote(symbol).map { LuaTables.quote($0, now: self.currentTime) } ?? .nil])
        }
        define("market", "history") { [unowned self] call in
            let instrument = try self.instrument(call)
            let symbol = instrument.key
            let options = try call.table(2, "options", optional: true) ?? .table([:])
            let duration = try LuaCall.field(options, "duration", string: call, "options") ?? "1 D"
            let bar = try LuaCall.field(options, "bar", string: call, "options") ?? "1 min"
            let what = try LuaChecked.text(try LuaCall.field(options, "what", string: call, "options") ?? "TRADES", "market.history: options.what", maxBytes: 32)
            // Checked here, by the parser every side uses: a span TWS cannot be asked for is the
            // call's answer, not a request.
            guard HistoricalSpan.durationSeconds(try LuaChecked.text(duration, "market.history: options.duration", maxBytes: 32)) != nil else {
                throw LuaInvalidArgument("market.history: options.duration \(LuaChecked.excerpt(duration)) is not a duration up to 100 years "
                                             + "(\"3600 S\", \"5 D\", \"2 W\", \"1 M\", \"1 Y\")")
            }
            guard HistoricalSpan.barSeconds(try LuaChecked.text(bar, "market.history: options.bar", maxBytes: 32), strict: false) != nil else {
                throw LuaInvalidArgument("market.history: options.bar \(LuaChecked.excerpt(bar)) is not a bar size (\"1 min\", \"5 mins\", \"1 hour\", \"1 day\")")
            }
            return try self.wait(call) { services in
                let bars = try await services.history(instrument, duration: duration, barSize: bar, whatToShow: what)
                return [.array(bars.map { LuaTables.historyBar(symbol: symbol, size: bar, bar: $0) })]
            }
        }
        define("market", "contract") { [unowned self] call in
            let instrument = try self.instrument(call)
            return try self.wait(call) { services in
                let resolved = try await services.contract(instrument)
                let details = resolved.details, contract = resolved.contract
                return [.record(["symbol": .string(instrument.key), "con_id": .integer(Int64(contract.conId)),
                                 "type": .string(contract.secType), "exchange": .string(contract.exchange),
                                 "primary_exchange": .string(contract.primaryExchange), "currency": .string(contract.currency),
                                 "local_symbol": .string(contract.localSymbol), "long_name": .string(details.longName),
                                 "min_tick": .number(details.minTick), "multiplier": .number(resolved.multiplier),
                                 "expiry": contract.lastTradeDateOrContractMonth.isEmpty ? nil : .string(contract.lastTradeDateOrContractMonth),
                                 "contract_month": details.contractMonth.isEmpty ? nil : .string(details.contractMonth),
                                 "strike": contract.strike.map { .number($0) }, "right": contract.right.isEmpty ? nil : .string(contract.right),
                                 "time_zone": .string(details.timeZoneId), "trading_hours": .string(details.tradingHours)])]
            }
        }
    }

    /// Suspends the calling handler until `work` answers; other events keep being delivered.
    /// The wait is registered only when the coroutine can really yield here. `finish`, run on
    /// the loop when the answer comes, turns it into the call's results.
    func wait(_ call: LuaCall, finish: (([LuaValue]) -> [LuaValue])? = nil,
                      _ work: @escaping @Sendable (StrategyServices) async throws -> [LuaValue]) throws -> LuaCall.Result
    {
        guard call.canSuspend, let thread = call.thread else { throw LuaArgumentError(call.cannotSuspendMessage) }
        guard let services else { return .values(LuaTables.failure("stopped", "the strategy is stopping")) }
        let id = nextWaitId
        nextWaitId += 1
        waits[id] = (thread, finish)
        let callName = call.name
        Task {
            let values: [LuaValue]
            do {
                values = try await work(services)
            } catch let error as TWSError {
                values = LuaTables.failure(error.code.map(String.init) ?? "tws", "\(error)")
            } catch let error as ExtensionError {
                values = LuaTables.failure(error.code, "\(callName): \(error.message)")
            } catch {
                values = LuaTables.failure("error", "\(error)")
            }
            self.post(.reply(wait: id, values: values))
        }
        return .yield
    }

    /// Orders, timers and subscriptions are effects: a file's top level (which a failed
    /// reload throws away) may not make them, only handlers.
    func requireHandler(_ call: LuaCall) throws {
        guard loadingDepth == 0 else {
            throw LuaArgumentError("\(call.name) can only be called from a handler (on_start, on_quote, ...), not at the top level of a file")
        }
    }

    /// Why this strategy may not send orders now (declared hung, or the kill switch), or nil.
    func orderFlowRefusal(_ call: LuaCall) -> [LuaValue]? {
        if let reason = hungReason { return LuaTables.failure("hung", "\(call.name): this strategy was cut off: \(reason)") }
        if let closed = services?.orderFlowClosed { return LuaTables.failure(closed.code, "\(call.name): \(closed.message)") }
        return nil
    }

    // MARK: orders

    private func registerOrders() {
        define("orders", "buy") { [unowned self] call in
            try self.place(call, side: "BUY", instrument: try self.instrument(call), quantity: try call.number(2, "qty"),
                           options: try call.table(3, "options", optional: true) ?? .table([:]))
        }
        define("orders", "sell") { [unowned self] call in
            try self.place(call, side: "SELL", instrument: try self.instrument(call), quantity: try call.number(2, "qty"),
                           options: try call.table(3, "options", optional: true) ?? .table([:]))
        }
        define("orders", "place") { [unowned self] call in
            guard let spec = try call.table(1, "order") else { return .values([]) }
            let named = spec["instrument"] != .nil ? spec["instrument"] : spec["symbol"]
            guard named != .nil else { throw LuaArgumentError("orders.place: order.symbol (or order.instrument) is required") }
            let instrument = try self.instrument(named, call: call.name, parameter: "order.symbol")
            guard let side = try LuaCall.field(spec, "side", string: call, "order")?.uppercased(), side == "BUY" || side == "SELL" else {
                throw LuaArgumentError("orders.place: order.side must be \"BUY\" or \"SELL\"")
            }
            guard let quantity = try LuaCall.field(spec, "qty", number: call, "order") else {
                throw LuaArgumentError("orders.place: order.qty is required")
            }
            return try self.place(call, side: side, instrument: instrument, quantity: quantity, quantityName: "order.qty", options: spec,
                                  optionsName: "order")
        }
        define("orders", "bracket") { [unowned self] call in try self.bracket(call) }
        define("orders", "modify") { [unowned self] call in
            try self.requireHandler(call)
            let id = try self.orderId(call)
            let change = try call.table(2, "changes") ?? .table([:])
            let quantity = try LuaCall.field(change, "qty", number: call, "changes")
                .map { try LuaChecked.number($0, "orders.modify: changes.qty", in: APIBounds.quantity) }
            let limit = try LuaCall.field(change, "limit", number: call, "changes")
                .map { try LuaChecked.number($0, "orders.modify: changes.limit", in: APIBounds.price) }
            let stop = try LuaCall.field(change, "stop", number: call, "changes")
                .map { try LuaChecked.number($0, "orders.modify: changes.stop", in: APIBounds.price) }
            if let refusal = self.orderFlowRefusal(call) { return .values(refusal) }
            guard let record = self.orders[id], record.strategy == self.name else {
                return .values(LuaTables.failure("unknown_order", "orders.modify: order \(id) is not one of this strategy's orders"))
            }
            guard !record.status.isTerminal else {
                return .values(LuaTables.failure("not_open", "orders.modify: order \(id) is \(LuaTables.status(record.status))"))
            }
            // The order as it would be after the change, checked as a whole against what is
            // open besides it (a change that only lowers exposure always passes).
            let symbol = record.instrumentKey
            let newQuantity = quantity ?? record.quantity
            let newPrice = limit ?? stop ?? record.order.lmtPrice ?? record.order.auxPrice
            if newQuantity > record.remaining + 1e-9 || (newPrice != nil && newPrice != (record.order.lmtPrice ?? record.order.auxPrice)) {
                let remaining = max(newQuantity - record.filled, 0)
                var others = self.exposure(symbol)
                if record.isBuy { others.openBuys -= record.remaining } else { others.openSells -= record.remaining }
                let intent = OrderIntent(symbol: symbol, buy: record.isBuy, quantity: remaining,
                                         referencePrice: self.referencePrice(symbol, buy: record.isBuy, limit: limit ?? record.order.lmtPrice,
                                                                             stop: stop ?? record.order.auxPrice), terms: record.contract.terms)
                if let refusal = self.gate.check(intent, exposure: others, openOrders: max(self.openOrderCount - 1, 0),
                                                 now: self.currentTime, rates: self.currentRates, counting: false)
                {
                    return .values(self.refuse(refusal))
                }
            }
            self.services?.modify(id: id, quantity: quantity, limit: limit, stop: stop)
            return .values([.bool(true)])
        }
        define("orders", "cancel") { [unowned self] call in
            try self.requireHandler(call)
            let id = try self.orderId(call)
            guard let record = self.orders[id], record.strategy == self.name else {
                return .values(LuaTables.failure("unknown_order", "orders.cancel: order \(id) is not one of this strategy's orders"))
            }
            guard !record.status.isTerminal else {
                return .values(LuaTables.failure("not_open", "orders.cancel: order \(id) is \(LuaTables.status(record.status))"))
            }
            self.requestCancel(id)
            return .values([.bool(true)])
        }
        define("orders", "cancel_all") { [unowned self] call in
            try self.requireHandler(call)
            let open = self.openOrders
            for record in open { self.requestCancel(record.orderId) }
            return .values([.integer(Int64(open.count))])
        }
        define("orders", "get") { [unowned self] call in
            let id = try self.orderId(call)
            return .values([self.orders[id].map(LuaTables.order) ?? .nil])
        }
        define("orders", "open") { [unowned self] _ in
            let open = self.openOrders.sorted { $0.orderId < $1.orderId }
            return .values([.array(open.map(LuaTables.order))])
        }
    }

    /// Argument 1 of orders.get / cancel / modify: an order id (a whole number in IB's range).
    func orderId(_ call: LuaCall) throws -> Int {
        Int(try LuaChecked.integer(try call.number(1, "id"), "\(call.name): argument 1 (id)", in: APIBounds.id))
    }

    /// The price an order's notional is valued at: its limit or stop, else the last trade,
    /// else the side it would take (ask to buy, bid to sell); nil when the strategy has no
    /// quote of the symbol (the gate then refuses: it never lets an order pass unvalued).
    func referencePrice(_ symbol: String, buy: Bool, limit: Double?, stop: Double?) -> Double? {
        limit ?? stop ?? currentQuote(symbol)?.referencePrice(buying: buy)
    }

    /// The strategy's position in `symbol` and what its open orders would add if they all filled.
    func exposure(_ symbol: String) -> Exposure {
        var exposure = Exposure(position: positions[symbol]?.quantity ?? 0)
        for id in openOrderIds {
            guard let record = orders[id], record.instrumentKey == symbol else { continue }
            if record.isBuy { exposure.openBuys += record.remaining } else { exposure.openSells += record.remaining }
        }
        return exposure
    }

    var openOrderCount: Int { openOrderIds.count { orders[$0]?.status != .unknown } }

    /// This strategy's orders that are still working (pending, submitted, partly filled; not
    /// those whose state a reconciliation could not establish).
    var openOrders: [OrderRecord] { openOrderIds.compactMap { orders[$0] }.filter { $0.status != .unknown } }

    /// Keeps an order's latest record: the open ones all, the finished ones the last
    /// `keptFinishedOrders` (orders.get answers for those; a run of months must not keep
    /// every order it ever placed).
    /// A cancel asked again before TWS answered the last one (within `cancelRepeatAfter`
    /// seconds) is the same cancel: one message, not one per call. A strategy that cancels on
    /// every quote would otherwise queue thousands of cancels at TWS's 50 messages a second,
    /// and everything it sends after them (orders, subscriptions) would wait minutes behind.
    func requestCancel(_ id: Int) {
        let now = currentTime
        if let sent = cancelsSent[id], now - sent < Self.cancelRepeatAfter { return }
        cancelsSent[id] = now
        services?.cancel(id: id)
    }

    static let cancelRepeatAfter = 5.0

    func remember(order record: consuming OrderRecord) {
        let id = record.orderId
        // Read in place: an OrderRecord is 2 KB, and this runs for every order event.
        let wasFinished = orders.index(forKey: id).map { orders.values[$0].status.isTerminal } ?? false
        let status = record.status
        let own = record.strategy == name
        // A cancel was answered: refused (it may be asked again at once) or the order ended.
        if status.isTerminal || record.reason.hasPrefix("request refused") { cancelsSent[id] = nil }
        orders[id] = record
        // Unknown ones stay in: the exposure counts them (fail-closed).
        if own && !status.isTerminal {
            openOrderIds.insert(id)
        } else {
            openOrderIds.remove(id)
        }
        if status.isTerminal && !wasFinished {
            finishedOrderIds.append(id)
            while finishedOrderIds.count > Self.keptFinishedOrders, let oldest = finishedOrderIds.popFirst() {
                if let index = orders.index(forKey: oldest), orders.values[index].status.isTerminal {
                    orders.remove(at: index)
                    toldOrders[oldest] = nil
                }
            }
        }
    }

    static let keptFinishedOrders = 1_000

    /// A refusal: journaled, told to on_error, returned as `nil, err`.
    func refuse(_ refusal: RiskRefusal) -> [LuaValue] {
        statistics.ordersRefused += 1
        services?.journal(strategy: name, kind: "risk_refusal", detail: refusal.message)
        logger.warning("\(refusal.message)")
        enqueue(.error(code: "risk:" + refusal.code, message: refusal.message, orderId: nil))
        return LuaTables.failure("risk:" + refusal.code, refusal.message)
    }

    // MARK: account

    private func registerAccount() {
        define("account", "position") { [unowned self] call in
            let symbol = try self.instrument(call).key
            guard let position = self.positions[symbol], position.quantity != 0 else { return .values([.nil]) }
            return .values([self.positionTable(symbol, position)])
        }
        define("account", "account_position") { [unowned self] call in
            let symbol = try self.instrument(call).key
            return .values([.number(self.services?.accountPosition(symbol: symbol) ?? 0)])
        }
        define("account", "positions") { [unowned self] _ in
            let list = self.positions.keys.compactMap { key in self.positions[key].map { self.positionTable(key, $0) } }
            return .values([.array(list)])
        }
        define("account", "values") { [unowned self] _ in
            var table: [LuaKey: LuaValue] = [:]
            for (key, value) in self.accountValues { table[.string(key)] = Double(value).map { .number($0) } ?? .string(value) }
            return .values([.table(table)])
        }
        define("account", "pnl") { [unowned self] _ in
            .values([.record(["daily": LuaTables.number(self.pnl.daily), "unrealized": LuaTables.number(self.pnl.unrealized),
                              "realized": LuaTables.number(self.pnl.realized)])])
        }
    }

    /// The strategy's own position, with the account's total beside it (`account_qty`).
    func positionTable(_ symbol: String, _ position: (quantity: Double, averageCost: Double)) -> LuaValue {
        LuaTables.position(symbol: symbol, quantity: position.quantity, averageCost: position.averageCost,
                           accountQuantity: services?.accountPosition(symbol: symbol))
    }

    // MARK: timer

    private func registerTimers() {
        func schedule(_ call: LuaCall, repeating: Bool) throws -> LuaCall.Result {
            try self.requireHandler(call)
            try self.checkTimerRoom(call)
            let seconds = try call.number(1, "seconds")
            let function = try call.function(2, "fn")
            // A millisecond to a year (README): a later delay cannot be scheduled, and is no timer anyone means.
            let nanoseconds: Int64
            do {
                nanoseconds = try LuaChecked.nanoseconds(seconds, "\(call.name): argument 1 (seconds)", in: APIBounds.timerSeconds)
            } catch {
                self.lua.release(function)
                throw error
            }
            let id = nextTimerId
            nextTimerId += 1
            // A replay's market runs faster than the wall clock: the timer waits market time.
            let delay = TimeAmount.nanoseconds(self.config.marketClock?.wallNanoseconds(nanoseconds) ?? nanoseconds)
            if let clock {
                // A backtest: the timer falls due on the simulated clock.
                clock.schedule(timer: id, after: seconds, repeating: repeating)
                timers[id] = (function, repeating, nil)
            } else if repeating {
                let task = loop.scheduleRepeatedTask(initialDelay: delay, delay: delay) { [weak self] _ in self?.fire(timer: id) }
                timers[id] = (function, true, nil)
                repeatingTasks[id] = task
            } else {
                let task: Scheduled<Void> = loop.scheduleTask(in: delay) { [weak self] () -> Void in self?.fire(timer: id) }
                timers[id] = (function, false, task)
            }
            return .values([.integer(Int64(id))])
        }
        define("timer", "after") { call in try schedule(call, repeating: false) }
        define("timer", "every") { call in try schedule(call, repeating: true) }
        define("timer", "cancel") { [unowned self] call in
            let id = Int(try LuaChecked.integer(try call.number(1, "id"), "timer.cancel: argument 1 (id)", in: APIBounds.id))
            guard let timer = self.timers.removeValue(forKey: id) else { return .values([.bool(false)]) }
            timer.task?.cancel()
            self.clock?.cancel(timer: id)
            self.repeatingTasks.removeValue(forKey: id)?.cancel()
            self.lua.release(timer.function)
            return .values([.bool(true)])
        }
    }

    /// Cancels every timer (stop, and the old code's timers at a reload).
    func cancelAllTimers() {
        for (id, timer) in timers {
            timer.task?.cancel()
            repeatingTasks.removeValue(forKey: id)?.cancel()
            lua.release(timer.function)
        }
        clock?.cancelAll()
        timers.removeAll()
    }

    // MARK: log, print, now, collectgarbage, require

    private func registerLogAndBasics() {
        // The Swift side takes one string; Lua wrappers (below) format the arguments with
        // tostring, in Lua, under the budget: no metamethod runs on the host's behalf.
        func line(_ call: LuaCall) -> String { (try? call.string(1, "text")) ?? "" }
        define("log", "info") { [unowned self] call in
            self.logger.info("\(line(call))")
            self.remember(line(call))
            return .values([])
        }
        define("log", "warn") { [unowned self] call in
            self.logger.warning("\(line(call))")
            return .values([])
        }
        define("log", "error") { [unowned self] call in
            self.logger.error("\(line(call))")
            return .values([])
        }
        define(nil, "print") { [unowned self] call in
            self.logger.info("\(line(call))")
            self.remember(line(call))
            return .values([])
        }
        try? lua.defineInBase("""
            local info, warn, error, emit = log.info, log.warn, log.error, print
            local tostring, select, concat = tostring, select, table.concat
            local function text(...)
              local parts = {}
              for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
              return concat(parts, " ")
            end
            log.info = function(...) return info(text(...)) end
            log.warn = function(...) return warn(text(...)) end
            log.error = function(...) return error(text(...)) end
            print = function(...) return emit(text(...)) end
            """, chunkName: "moonwire/log.lua")
        // xpcall's message handler runs while the error unwinds, where a stopping budget
        // raises inside the handler again and again: a `while true do end` there escaped the
        // time budget and spun a core for good. Here the handler is called after the protected
        // call returned, as an ordinary call the budget stops (it sees the error value, not
        // the stack at the error: strategies have no debug library anyway).
        try? lua.defineInBase("""
            local pcall, pack, unpack, error, select = pcall, table.pack, table.unpack, error, select
            xpcall = function(f, handler, ...)
              if select("#", handler) == 0 or handler == nil then error("bad argument #2 to 'xpcall' (value expected)", 2) end
              local results = pack(pcall(f, ...))
              if results[1] then return unpack(results, 1, results.n) end
              return false, handler(results[2])
            end
            """, chunkName: "moonwire/xpcall.lua")
        define(nil, "now") { [unowned self] _ in .values([.number(self.currentTime)]) }
        define(nil, "collectgarbage") { [unowned self] call in
            let option = call.count >= 1 ? try call.string(1, "opt") : "count"
            guard option == "count" else {
                throw LuaArgumentError("collectgarbage: only \"count\" is available to strategies, got \(LuaChecked.excerpt(option))")
            }
            return .values([.number(Double(self.lua.collectorKilobytes))])
        }
        define(nil, "require") { [unowned self] call in
            let module = try call.string(1, "name")
            guard LuaModuleFile.isValid(module) else {
                throw LuaArgumentError("require: \(LuaChecked.excerpt(module)) is not a module name (letters, digits, _ and . only, at most 128)")
            }
            if let loaded = self.loadedModules[module] {
                return call.push(reference: loaded)
            }
            let file = LuaModuleFile.path(of: module, forStrategyAt: self.path)
            guard FileManager.default.fileExists(atPath: file) else {
                throw LuaArgumentError("require: no module '\(module)' in the strategy's folder (\(file))")
            }
            let source = try Self.read(file)
            // A module runs in its own environment, nested in the caller's budget frame
            // (it can shorten the caller's deadline, never reset it), and gives back
            // whatever it returns: functions and tables as they are.
            let moduleEnv = self.lua.newEnvironment()
            defer { self.lua.release(moduleEnv) }
            self.loadingDepth += 1
            defer { self.loadingDepth -= 1 }
            let results = try self.lua.load(source: source, chunkName: URL(fileURLWithPath: file).lastPathComponent, env: moduleEnv,
                                            results: 1, on: call.caller, arguments: [.string(module)], budget: max(self.lua.timeBudget, 1.0))
            self.modulePaths.append(file)
            self.loadedModules[module] = results[0]
            return call.push(reference: results[0])
        }
    }
}
