import Foundation
import Money
import TWSProtocol

extension GatewayEngine {
    /// The price positions are marked at: the last trade (the mid for forex, which has none).
    func markPrice(_ symbol: String) -> Double {
        guard let quote = market.quote(symbol: symbol) else { return 0 }
        return market.instrument(symbol: symbol)?.secType == "CASH" ? quote.mid : quote.last
    }

    /// The value of one unit at the mark: price × multiplier (what the account counts in).
    func mark(_ symbol: String) -> Double { markPrice(symbol) * (market.instrument(symbol: symbol)?.multiplier ?? 1) }

    /// The mark a ledger reads: the quoted price, nil without a quote (then it counts at cost).
    func ledgerMark(_ symbol: String) -> Double? {
        let price = markPrice(symbol)
        return price > 0 && price.isFinite ? price : nil
    }

    /// The account with the gateway's current rates (its figures are in base).
    func valued(_ id: String) -> PaperAccount? {
        guard var account = accounts[id] else { return nil }
        account.use(rates: exchangeRates())
        return account
    }

    /// Margin IB would ask of a holding's value: stocks 25 %, futures 6 %, forex 3 %, options the premium.
    func marginRate(_ symbol: String) -> Double {
        switch market.instrument(symbol: symbol)?.secType {
        case "FUT": return 0.06
        case "CASH": return 0.03
        case "OPT": return 1.0
        default: return 0.25
        }
    }

    private func money(_ value: Double) -> String { String(format: "%.2f", value) }

    /// Positions TWS counts in cash rather than as positions: a forex pair's (a balance in the
    /// pair's base currency) and a future's (only its commissions and PnL ever moved cash).
    private func countsAsCash(_ terms: InstrumentTerms) -> Bool { terms.secType == "CASH" || terms.secType == "FUT" }

    /// The base value of the positions TWS counts as cash (`cashLike`) or of the others, at
    /// the marks (at cost without one); `absolute` sums their sizes (GrossPositionValue).
    private func positionsValue(_ account: PaperAccount, cashLike: Bool, absolute: Bool = false) -> Double {
        let ledger = account.ledger
        var total = 0.0
        for (slot, key) in ledger.keys.enumerated() {
            let holding = ledger.holdings[slot]
            guard holding.quantity != 0, countsAsCash(holding.terms) == cashLike else { continue }
            let value = ledgerMark(key).map { holding.marketValue(at: $0) } ?? holding.costBasis
            let inBase = ledger.rates.convert(value, from: holding.terms.currency) ?? 0
            total += absolute ? abs(inBase) : inBase
        }
        return total
    }

    /// TotalCashValue as TWS reports it: every currency's cash in base, forex balances and
    /// futures' PnL included (the ledger books a future's and a pair's value as paid).
    func cashValue(_ account: PaperAccount) -> Double { account.cash + positionsValue(account, cashLike: true) }

    /// GrossPositionValue as TWS reports it: without cash, forex balances and futures.
    func grossPositionValue(_ account: PaperAccount) -> Double { positionsValue(account, cashLike: false, absolute: true) }

    /// A position's realized PnL since the gateway started, in the instrument's currency.
    func realized(_ account: PaperAccount, _ symbol: String) -> Double { account.ledger.holding(symbol)?.realized ?? 0 }

    /// The values TWS reports for an account, as (key, value, currency).
    func accountValues(_ id: String) -> [(String, String, String)] {
        guard let account = valued(id) else { return [] }
        let net = account.netLiquidation(markPrice: ledgerMark)
        let gross = grossPositionValue(account)
        let cash = cashValue(account)
        let rates = account.ledger.rates
        let margin = account.holdings.values.reduce(0.0) { total, holding in
            let currency = market.instrument(symbol: holding.symbol)?.currency ?? rates.base
            return total + abs(rates.convert(holding.quantity * mark(holding.symbol), from: currency) ?? 0) * marginRate(holding.symbol)
        }
        let maintenance = margin
        let initial = margin
        let available = net - initial
        return [
            ("AccountCode", id, ""), ("AccountType", "INDIVIDUAL", ""), ("Currency", "USD", "USD"),
            ("NetLiquidation", money(net), "USD"), ("TotalCashValue", money(cash), "USD"),
            ("CashBalance", money(cash), "USD"), ("SettledCash", money(cash), "USD"),
            ("EquityWithLoanValue", money(net), "USD"), ("GrossPositionValue", money(gross), "USD"),
            ("InitMarginReq", money(initial), "USD"), ("MaintMarginReq", money(maintenance), "USD"),
            ("AvailableFunds", money(available), "USD"), ("ExcessLiquidity", money(net - maintenance), "USD"),
            ("BuyingPower", money(max(0, available) * 4), "USD"),
            ("UnrealizedPnL", money(account.unrealizedPnL(markPrice: ledgerMark)), "USD"),
            ("RealizedPnL", money(account.realizedPnL), "USD"),
        ] + exchangeRateValues()
    }

    func requestAccountUpdates(_ session: GatewaySession, _ request: ReqAccountUpdates) {
        guard request.subscribe else {
            session.accountUpdates = nil
            return
        }
        let id = request.acctCode.isEmpty ? defaultAccount : request.acctCode
        guard accounts[id] != nil else {
            session.sendError(-1, 321, "Error validating request.-'bF' : cause - Account \(id) is not one of this login's accounts")
            return
        }
        if let previous = session.accountUpdates, previous != id {
            session.sendError(-1, 2100, "New account data requested from API. API client has been unsubscribed from account data.")
        }
        session.accountUpdates = id
        sendAccountUpdate(session, id)
    }

    func sendAccountUpdate(_ session: GatewaySession, _ id: String, symbol: String? = nil) {
        for (key, value, currency) in accountValues(id) {
            session.send(.updateAccountValue(UpdateAccountValue(key: key, value: value, currency: currency, accountName: id)))
        }
        for holding in (accounts[id]?.holdings.values.sorted { $0.symbol < $1.symbol } ?? []) where symbol == nil || holding.symbol == symbol {
            guard let instrument = market.instrument(symbol: holding.symbol) else { continue }
            var portfolio = UpdatePortfolio()
            portfolio.contract = instrument.contract
            portfolio.position = TWSDecimal(approximating: holding.quantity)
            portfolio.marketPrice = markPrice(holding.symbol)
            portfolio.marketValue = (holding.quantity * mark(holding.symbol) * 100).rounded() / 100
            portfolio.averageCost = holding.averageCost
            // In the instrument's currency, as TWS reports a portfolio line.
            portfolio.unrealizedPNL = holding.quantity == 0 ? 0 : ((mark(holding.symbol) - holding.averageCost) * holding.quantity * 100).rounded() / 100
            portfolio.realizedPNL = accounts[id].map { (realized($0, holding.symbol) * 100).rounded() / 100 } ?? 0
            portfolio.accountName = id
            session.send(.updatePortfolio(portfolio))
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let date = Date(timeIntervalSince1970: now)
        let stamp = String(format: "%02d:%02d", calendar.component(.hour, from: date), calendar.component(.minute, from: date))
        session.send(.updateAccountTime(UpdateAccountTime(timeStamp: stamp)))
        if symbol == nil { session.send(.accountDownloadEnd(AccountDownloadEnd(accountName: id))) }
    }

    static let summaryTags = ["AccountType", "NetLiquidation", "TotalCashValue", "SettledCash", "AccruedCash", "BuyingPower",
                              "EquityWithLoanValue", "PreviousEquityWithLoanValue", "GrossPositionValue", "RegTEquity", "RegTMargin",
                              "SMA", "InitMarginReq", "MaintMarginReq", "AvailableFunds", "ExcessLiquidity", "Cushion",
                              "FullInitMarginReq", "FullMaintMarginReq", "FullAvailableFunds", "FullExcessLiquidity",
                              "LookAheadNextChange", "LookAheadInitMarginReq", "LookAheadMaintMarginReq",
                              "LookAheadAvailableFunds", "LookAheadExcessLiquidity", "HighestSeverity", "DayTradesRemaining",
                              "Leverage"]

    func summaryValue(_ tag: String, _ id: String) -> (String, String)? {
        let values = Dictionary(accountValues(id).map { ($0.0, ($0.1, $0.2)) }, uniquingKeysWith: { a, _ in a })
        switch tag {
        case "AccountType": return ("INDIVIDUAL", "")
        case "PreviousEquityWithLoanValue", "RegTEquity", "SMA": return values["EquityWithLoanValue"]
        case "RegTMargin", "FullInitMarginReq", "LookAheadInitMarginReq": return values["InitMarginReq"]
        case "FullMaintMarginReq", "LookAheadMaintMarginReq": return values["MaintMarginReq"]
        case "FullAvailableFunds", "LookAheadAvailableFunds": return values["AvailableFunds"]
        case "FullExcessLiquidity", "LookAheadExcessLiquidity": return values["ExcessLiquidity"]
        case "AccruedCash": return ("0.00", "USD")
        case "Cushion": return ("1", "")
        case "LookAheadNextChange": return ("0", "")
        case "HighestSeverity": return ("0", "")
        case "DayTradesRemaining": return ("-1", "")
        case "Leverage":
            guard let account = valued(id) else { return nil }
            let net = account.netLiquidation(markPrice: ledgerMark)
            return (String(format: "%.2f", net == 0 ? 0 : grossPositionValue(account) / net), "")
        default: return values[tag]
        }
    }

    func requestAccountSummary(_ session: GatewaySession, _ request: ReqAccountSummary) {
        var tags: [String] = []
        for tag in request.tags.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !tag.isEmpty {
            if tag.hasPrefix("$LEDGER") {
                tags += ["CashBalance", "TotalCashValue", "NetLiquidation", "UnrealizedPnL", "RealizedPnL"]
            } else {
                tags.append(tag)
            }
        }
        session.accountSummaries[request.reqId] = tags
        sendAccountSummary(session, request.reqId, tags)
    }

    func sendAccountSummary(_ session: GatewaySession, _ reqId: Int, _ tags: [String]) {
        for id in config.accounts {
            for tag in tags {
                guard let (value, currency) = summaryValue(tag, id) else { continue }
                session.send(.accountSummary(AccountSummary(reqId: reqId, account: id, tag: tag, value: value, currency: currency)))
            }
        }
        session.send(.accountSummaryEnd(AccountSummaryEnd(reqId: reqId)))
    }

    func positionMessages(account filter: String?) -> [Position] {
        var out: [Position] = []
        for id in config.accounts where filter == nil || filter == id {
            for holding in (accounts[id]?.holdings.values.sorted { $0.symbol < $1.symbol } ?? []) {
                guard let instrument = market.instrument(symbol: holding.symbol) else { continue }
                out.append(Position(account: id, contract: instrument.contract, position: TWSDecimal(approximating: holding.quantity),
                                    avgCost: holding.averageCost))
            }
        }
        return out
    }

    func reportPositions(_ session: GatewaySession) {
        for position in positionMessages(account: nil) { session.send(.position(position)) }
        session.send(.positionEnd(PositionEnd()))
        session.positionUpdates = true
    }

    func requestPositionsMulti(_ session: GatewaySession, _ request: ReqPositionsMulti) {
        let account = request.account.isEmpty || request.account == "All" ? nil : request.account
        for position in positionMessages(account: account) {
            var multi = PositionMulti()
            multi.reqId = request.reqId
            multi.account = position.account
            multi.contract = position.contract
            multi.position = position.position
            multi.avgCost = position.avgCost
            multi.modelCode = request.modelCode
            session.send(.positionMulti(multi))
        }
        session.send(.positionMultiEnd(PositionMultiEnd(reqId: request.reqId)))
        session.positionsMulti[request.reqId] = request.account
    }

    func requestAccountUpdatesMulti(_ session: GatewaySession, _ request: ReqAccountUpdatesMulti) {
        let ids = request.account.isEmpty || request.account == "All" ? config.accounts : [request.account]
        for id in ids {
            for (key, value, currency) in accountValues(id) {
                var update = AccountUpdateMulti()
                update.reqId = request.reqId
                update.account = id
                update.modelCode = request.modelCode
                update.key = key
                update.value = value
                update.currency = currency
                session.send(.accountUpdateMulti(update))
            }
        }
        session.send(.accountUpdateMultiEnd(AccountUpdateMultiEnd(reqId: request.reqId)))
        session.accountUpdatesMulti[request.reqId] = request.account
    }

    func requestPnL(_ session: GatewaySession, _ request: ReqPnL) {
        let id = request.account.isEmpty ? defaultAccount : request.account
        guard accounts[id] != nil else {
            session.sendError(request.reqId, 321, "Error validating request.-'cz' : cause - Account \(id) is not one of this login's accounts")
            return
        }
        session.pnl[request.reqId] = id
        sendPnL(session, request.reqId, id)
    }

    func sendPnL(_ session: GatewaySession, _ reqId: Int, _ id: String) {
        guard let account = valued(id) else { return }
        var pnl = PnL()
        pnl.reqId = reqId
        let unrealized = account.unrealizedPnL(markPrice: ledgerMark)
        pnl.dailyPnL = ((account.realizedToday + unrealized) * 100).rounded() / 100
        pnl.unrealizedPnL = (unrealized * 100).rounded() / 100
        pnl.realizedPnL = (account.realizedPnL * 100).rounded() / 100
        session.send(.pnl(pnl))
    }

    func requestPnLSingle(_ session: GatewaySession, _ request: ReqPnLSingle) {
        let id = request.account.isEmpty ? defaultAccount : request.account
        guard accounts[id] != nil, market.index(conId: request.conId) != nil else {
            session.sendError(request.reqId, 200, Self.noSecurityDefinition)
            return
        }
        session.pnlSingle[request.reqId] = (id, request.conId)
        sendPnLSingle(session, request.reqId, id, request.conId)
    }

    func sendPnLSingle(_ session: GatewaySession, _ reqId: Int, _ id: String, _ conId: Int) {
        guard let index = market.index(conId: conId) else { return }
        let symbol = market.instruments[index].symbol
        let holding = accounts[id]?.holdings[symbol]
        let quantity = holding?.quantity ?? 0
        var pnl = PnLSingle()
        pnl.reqId = reqId
        pnl.position = TWSDecimal(approximating: quantity)
        let account = valued(id)
        let unrealized = quantity == 0 ? 0 : account?.unrealizedPnL(of: symbol, markPrice: markPrice(symbol)) ?? 0
        // In base at today's rate (the account's RealizedPnL converts each at its own moment).
        let currency = market.instruments[index].currency
        let realized = account.flatMap { $0.ledger.rates.convert(self.realized($0, symbol), from: currency) } ?? 0
        pnl.dailyPnL = ((realized + unrealized) * 100).rounded() / 100
        pnl.unrealizedPnL = (unrealized * 100).rounded() / 100
        pnl.realizedPnL = (realized * 100).rounded() / 100
        pnl.value = (quantity * mark(symbol) * 100).rounded() / 100
        session.send(.pnlSingle(pnl))
    }

    /// PnL subscriptions hear from us about once a second, as from TWS.
    func publishPnL() {
        guard now - lastPnLPublished >= 1 else { return }
        lastPnLPublished = now
        for session in clients {
            for (reqId, id) in session.pnl.sorted(by: { $0.key < $1.key }) { sendPnL(session, reqId, id) }
            for (reqId, single) in session.pnlSingle.sorted(by: { $0.key < $1.key }) {
                sendPnLSingle(session, reqId, single.account, single.conId)
            }
        }
    }

    /// After a fill: account, portfolio, positions and summaries to whoever follows them.
    func publishAccount(_ id: String, symbol: String) {
        for session in clients {
            if session.accountUpdates == id { sendAccountUpdate(session, id, symbol: symbol) }
            if session.positionUpdates {
                for position in positionMessages(account: id) where position.contract.localSymbol == symbol {
                    session.send(.position(position))
                }
            }
            for (reqId, tags) in session.accountSummaries.sorted(by: { $0.key < $1.key }) { sendAccountSummary(session, reqId, tags) }
        }
    }
}
