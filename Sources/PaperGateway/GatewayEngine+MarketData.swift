import Foundation
import TWSProtocol

extension GatewayEngine {
    /// Every instrument a contract description fits: by conId, else by IB's symbol (or the
    /// local symbol) with whatever else it names: security type, currency, exchange, expiry
    /// (a month or a day), strike, right, multiplier. CONTFUT names the front future.
    func matches(_ contract: Contract) -> [Instrument] {
        if contract.conId > 0 {
            return market.index(conId: contract.conId).map { [market.instruments[$0]] } ?? []
        }
        let symbol = contract.symbol.uppercased(), local = contract.localSymbol.uppercased()
        let secType = contract.secType.uppercased() == "CONTFUT" ? "FUT" : contract.secType.uppercased()
        let exchange = contract.exchange.uppercased()
        let right = contract.right.uppercased().prefix(1)
        let found = market.instruments.filter { instrument in
            if !local.isEmpty { guard instrument.symbol == local else { return false } } else if instrument.ibSymbol != symbol { return false }
            if !secType.isEmpty && secType != instrument.secType { return false }
            if !contract.currency.isEmpty && contract.currency.uppercased() != instrument.currency { return false }
            if !exchange.isEmpty && exchange != "SMART" && exchange != instrument.primaryExchange && exchange != instrument.exchange { return false }
            if !contract.lastTradeDateOrContractMonth.isEmpty && !instrument.expiry.hasPrefix(contract.lastTradeDateOrContractMonth) { return false }
            if let strike = contract.strike, strike > 0, instrument.strike != strike { return false }
            if !right.isEmpty && String(right) != instrument.right { return false }
            if !contract.multiplier.isEmpty, let multiplier = Double(contract.multiplier), multiplier != instrument.multiplier { return false }
            return true
        }
        if contract.secType.uppercased() == "CONTFUT" { return found.min { $0.expiry < $1.expiry }.map { [$0] } ?? [] }
        return found
    }

    /// The one instrument a request names, or nil (none, or more than one: see `unresolved`).
    func resolve(_ contract: Contract) -> Instrument? {
        let found = matches(contract)
        return found.count == 1 ? found[0] : nil
    }

    /// IB's answer to a contract that names no single instrument (error 200).
    func unresolved(_ contract: Contract) -> String {
        matches(contract).count > 1 ? "The contract description specified for \(contract.symbol) is ambiguous." : Self.noSecurityDefinition
    }

    static let noSecurityDefinition = "No security definition has been found for the request"

    func requestMarketData(_ session: GatewaySession, _ request: ReqMktData) {
        guard let instrument = resolve(request.contract) else {
            session.sendError(request.reqId, 200, unresolved(request.contract))
            return
        }
        if session.marketData[request.reqId] != nil {
            session.sendError(request.reqId, 102, "Duplicate ticker ID")
            return
        }
        if !request.snapshot && session.marketData.count + session.realTimeBars.count >= config.pacing.maxMarketDataLines {
            session.sendError(request.reqId, 101, "Max number of tickers has been reached")
            return
        }
        // An account without live subscriptions, as a new IB paper account: live is refused,
        // delayed comes with a notice.
        if !config.market.liveData {
            if session.marketDataType <= 2 {
                session.sendError(request.reqId, 354, "Requested market data is not subscribed. Delayed market data is available."
                                  + "\(instrument.symbol) \(instrument.primaryExchange)/TOP/ALL")
                return
            }
            session.sendError(request.reqId, 10167, "Requested market data is not subscribed. Displaying delayed market data.")
        }
        let ticks = Set(request.genericTickList.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) })
        var line = GatewaySession.MarketDataLine(symbol: instrument.symbol, type: session.marketDataType, genericTicks: ticks, last: nil,
                                                 quotesTrades: instrument.secType != "CASH")
        session.send(.tickReqParams(TickReqParams(reqId: request.reqId, minTick: instrument.tickSize, bboExchange: "9c0001",
                                                  snapshotPermissions: 3)))
        session.send(.marketDataType(MarketDataType(reqId: request.reqId, marketDataType: line.type)))
        if let quote = market.quote(symbol: instrument.symbol) { sendTicks(session, request.reqId, &line, quote) }
        // Tick 49 as TWS sends it with the first ticks: 0 trading, 1 halted.
        session.send(.tickGeneric(TickGeneric(reqId: request.reqId, tickType: 49, value: faults.halted.contains(instrument.symbol) ? 1 : 0)))
        if request.snapshot {
            session.send(.tickSnapshotEnd(TickSnapshotEnd(reqId: request.reqId)))
        } else {
            session.marketData[request.reqId] = line
        }
    }

    func cancelMarketData(_ session: GatewaySession, _ reqId: Int) {
        if session.marketData.removeValue(forKey: reqId) == nil {
            session.sendError(reqId, 300, "Can't find EId with tickerId:\(reqId)")
        }
    }

    func setMarketDataType(_ session: GatewaySession, _ type: Int) {
        guard (1...4).contains(type) else {
            session.sendError(-1, 321, "Error validating request.-'cb' : cause - Invalid market data type \(type) (1 live, 2 frozen, 3 delayed, 4 delayed frozen)")
            return
        }
        session.marketDataType = type
    }

    /// Tick ids for live data and their delayed equivalents (types 3 and 4).
    private struct TickIDs {
        let bid, ask, last, bidSize, askSize, lastSize, volume, high, low, close, open, lastTimestamp: Int
        static let live = TickIDs(bid: 1, ask: 2, last: 4, bidSize: 0, askSize: 3, lastSize: 5, volume: 8, high: 6, low: 7,
                                  close: 9, open: 14, lastTimestamp: 45)
        static let delayed = TickIDs(bid: 66, ask: 67, last: 68, bidSize: 69, askSize: 70, lastSize: 71, volume: 74, high: 72,
                                     low: 73, close: 75, open: 76, lastTimestamp: 88)
    }

    /// Sends what changed since the line's last quote (everything the first time). Prices
    /// that carry a size are followed by the same size as a tickSize, as TWS does.
    func sendTicks(_ session: GatewaySession, _ reqId: Int, _ line: inout GatewaySession.MarketDataLine, _ quote: Quote) {
        let ids = line.type >= 3 ? TickIDs.delayed : TickIDs.live
        let previous = line.last
        func price(_ id: Int, _ value: Double, size: Int?, changed: Bool) {
            guard changed else { return }
            session.send(.tickPrice(TickPrice(reqId: reqId, tickType: id, price: value, size: size.map { TWSDecimal($0) },
                                              attrMask: size == nil ? 0 : 1)))
        }
        func size(_ id: Int, _ value: Int, changed: Bool) {
            guard changed else { return }
            session.send(.tickSize(TickSize(reqId: reqId, tickType: id, size: TWSDecimal(value))))
        }
        let bidChanged = previous == nil || previous!.bid != quote.bid || previous!.bidSize != quote.bidSize
        let askChanged = previous == nil || previous!.ask != quote.ask || previous!.askSize != quote.askSize
        let traded = previous == nil || previous!.lastTradeTime != quote.lastTradeTime || previous!.volume != quote.volume
        price(ids.bid, quote.bid, size: quote.bidSize, changed: bidChanged)
        size(ids.bidSize, quote.bidSize, changed: bidChanged)
        price(ids.ask, quote.ask, size: quote.askSize, changed: askChanged)
        size(ids.askSize, quote.askSize, changed: askChanged)
        // Forex has no trades: bid and ask only, as IDEALPRO quotes.
        if traded && line.quotesTrades {
            price(ids.last, quote.last, size: quote.lastSize, changed: true)
            size(ids.lastSize, quote.lastSize, changed: true)
            size(ids.volume, quote.volume, changed: true)
            session.send(.tickString(TickString(reqId: reqId, tickType: ids.lastTimestamp, value: String(quote.lastTradeTime))))
            if line.genericTicks.contains(233) {
                let value = "\(quote.last);\(quote.lastSize);\(quote.lastTradeTime * 1000);\(quote.volume);\(quote.last);true"
                session.send(.tickString(TickString(reqId: reqId, tickType: 48, value: value)))
            }
        }
        price(ids.high, quote.high, size: nil, changed: previous == nil || previous!.high != quote.high)
        price(ids.low, quote.low, size: nil, changed: previous == nil || previous!.low != quote.low)
        if previous == nil {
            price(ids.close, quote.close, size: nil, changed: true)
            price(ids.open, quote.open, size: nil, changed: true)
            if line.genericTicks.contains(236) {
                session.send(.tickGeneric(TickGeneric(reqId: reqId, tickType: 46, value: 3)))
            }
        }
        line.last = quote
    }

    func publishQuotes() {
        for session in clients where !session.stalled {
            for reqId in session.marketData.keys.sorted() {
                guard var line = session.marketData[reqId], let quote = market.quote(symbol: line.symbol) else { continue }
                if line.last == quote { continue }
                sendTicks(session, reqId, &line, quote)
                session.marketData[reqId] = line
            }
        }
    }

    // MARK: Contract details

    func requestContractDetails(_ session: GatewaySession, _ request: ReqContractDetails) {
        let found = request.contract.conId > 0 || !request.contract.symbol.isEmpty || !request.contract.localSymbol.isEmpty
            ? matches(request.contract) : []
        guard !found.isEmpty else {
            session.sendError(request.reqId, 200, Self.noSecurityDefinition)
            return
        }
        for instrument in found {
            session.send(.contractData(ContractData(reqId: request.reqId, details: details(of: instrument))))
        }
        session.send(.contractDataEnd(ContractDataEnd(reqId: request.reqId)))
    }

    func details(of instrument: Instrument) -> ContractDetails {
        var details = ContractDetails()
        details.contract = instrument.contract
        details.marketName = instrument.contract.tradingClass
        details.minTick = instrument.tickSize
        details.orderTypes = instrument.tradable ? "ACTIVETIM,AD,ADJUST,ALERT,ALLOC,DAY,GTC,IOC,LMT,MKT,OCA,STP,STPLMT,TRAIL,WHATIF" : ""
        details.validExchanges = instrument.exchange == "SMART" ? "SMART,\(instrument.primaryExchange)" : instrument.exchange
        if instrument.secType == "FUT" || instrument.secType == "OPT" {
            details.contractMonth = String(instrument.expiry.prefix(6))
            details.realExpirationDate = instrument.expiry
            details.underSymbol = instrument.secType == "FUT" ? instrument.ibSymbol : instrument.underlying
            details.underSecType = instrument.secType == "FUT" ? "IND" : "STK"
        }
        details.priceMagnifier = 1
        details.longName = instrument.longName
        details.industry = instrument.industry
        details.category = instrument.category
        details.subcategory = instrument.category
        // The week ahead from the one table the history is cut by (`TradingHours`), so a
        // calendar built from these details places every history bar in a session.
        let hours = TradingHours.of(instrument)
        details.timeZoneId = hours.zoneName
        details.tradingHours = hours.listing(from: Int64(now), regularOnly: false)
        details.liquidHours = hours.listing(from: Int64(now), regularOnly: true)
        details.aggGroup = 1
        details.marketRuleIds = "26,26"
        details.stockType = instrument.stockType
        details.minSize = TWSDecimal(1)
        details.sizeIncrement = TWSDecimal(1)
        details.suggestedSizeIncrement = TWSDecimal(instrument.secType == "CASH" ? 1000 : instrument.lot)
        return details
    }

    // MARK: 5-second bars

    func requestRealTimeBars(_ session: GatewaySession, _ request: ReqRealTimeBars) {
        guard let instrument = resolve(request.contract) else {
            session.sendError(request.reqId, 200, Self.noSecurityDefinition)
            return
        }
        guard request.barSize == 5 else {
            session.sendError(request.reqId, 420, "Invalid Real-time Query: only 5 second bars are supported")
            return
        }
        guard ["TRADES", "MIDPOINT", "BID", "ASK"].contains(request.whatToShow) else {
            session.sendError(request.reqId, 420, "Invalid Real-time Query: whatToShow \(request.whatToShow) (TRADES, MIDPOINT, BID, ASK)")
            return
        }
        if session.marketData.count + session.realTimeBars.count >= config.pacing.maxMarketDataLines {
            session.sendError(request.reqId, 101, "Max number of tickers has been reached")
            return
        }
        session.realTimeBars[request.reqId] = instrument.symbol
    }

    func aggregateRealTimeBars(_ trades: [Trade]) {
        let bucket = Int64(now) / 5 * 5
        for (symbol, current) in realTimeBuckets where current.start < bucket {
            for session in clients where !session.stalled {
                for (reqId, subscribed) in session.realTimeBars.sorted(by: { $0.key < $1.key }) where subscribed == symbol {
                    session.send(.realtimeBar(current.bar(reqId: reqId)))
                }
            }
            realTimeBuckets[symbol] = RealTimeBucket(start: bucket, carry: current.lastPrice)
        }
        for instrument in market.instruments where realTimeBuckets[instrument.symbol] == nil {
            realTimeBuckets[instrument.symbol] = RealTimeBucket(start: bucket, carry: market.quote(symbol: instrument.symbol)?.last ?? 0)
        }
        // This step's trades count after the windows that ended were sent: a trade at 14:30:05
        // opens the 14:30:05 bar, it does not close the 14:30:00 one (a replayed bar's close
        // would otherwise read as the next bar's open).
        for trade in trades { realTimeBuckets[trade.symbol, default: RealTimeBucket(start: bucket, carry: trade.price)].add(trade) }
    }
}

/// Trades of one symbol in one 5-second window.
struct RealTimeBucket {
    var start: Int64
    /// The last trade before the window: a window without trades is a bar at that price (not
    /// the price the market has when the bar is sent, which is the next window's first trade).
    var carry: Double
    var open = 0.0, high = 0.0, low = 0.0, close = 0.0
    var volume = 0
    var notional = 0.0
    var count = 0

    init(start: Int64, carry: Double) {
        self.start = start
        self.carry = carry
    }

    /// The last trade up to the end of this window.
    var lastPrice: Double { count == 0 ? carry : close }

    mutating func add(_ trade: Trade) {
        if count == 0 { open = trade.price; high = trade.price; low = trade.price }
        high = max(high, trade.price)
        low = min(low, trade.price)
        close = trade.price
        volume += trade.size
        notional += trade.price * Double(trade.size)
        count += 1
    }

    func bar(reqId: Int) -> RealTimeBar {
        var bar = RealTimeBar()
        bar.reqId = reqId
        bar.time = start
        let price = count == 0 ? carry : open
        bar.open = price
        bar.high = count == 0 ? carry : high
        bar.low = count == 0 ? carry : low
        bar.close = count == 0 ? carry : close
        bar.volume = TWSDecimal(volume)
        bar.wap = TWSDecimal(approximating: volume > 0 ? (notional / Double(volume) * 10000).rounded() / 10000 : price)
        bar.count = count
        return bar
    }
}
