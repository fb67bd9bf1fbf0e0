import Foundation
import Hummingbird
import MarketHistory
import Moonwire
import StrategyHost
import TWSClient
import TradingState

/// The API's reads (docs/http-api.md, "Reads").
enum ReadRoutes {
    static func add(to router: Router<ServeContext>, model: ServeModel) {
        router.get("/api/status") { _, _ in JSONResponse.make(await status(model)) }
        router.get("/api/strategies") { _, _ in JSONResponse.make(await strategies(model)) }
        router.get("/api/positions") { _, _ in JSONResponse.make(await positions(model)) }
        router.get("/api/orders") { request, _ in
            let onlyOpen = try QueryValues.flag(request, "open") ?? false
            let snapshot = await model.runtime.snapshot()
            let orders = snapshot.orders.filter { !onlyOpen || (!$0.status.isTerminal && $0.status != .unknown) }
            return JSONResponse.make(.array(orders.map(RecordJSON.order)))
        }
        router.get("/api/fills") { request, _ in
            let offset = try QueryValues.integer(request, "offset", in: 0...Int(Int32.max)) ?? 0
            let limit = try QueryValues.integer(request, "limit", in: 1...1000) ?? 100
            let snapshot = await model.runtime.snapshot()
            let owners = RecordJSON.strategies(in: snapshot)
            let page = snapshot.executions.dropFirst(offset).prefix(limit)
            return JSONResponse.make(.object([
                ("total", .int(snapshot.executions.count)), ("offset", .int(offset)),
                ("fills", .array(page.map { RecordJSON.fill($0, strategy: owners[$0.orderId]) })),
            ]))
        }
        router.get("/api/account") { _, _ in
            let snapshot = await model.runtime.snapshot()
            let pnl = model.snapshotOfKept.pnl
            // This account's values as TWS last sent them (`KEY` or `KEY.CURRENCY`): numbers
            // where they are numbers, else the text.
            let mine = snapshot.accountValues[model.runtime.account] ?? [:]
            let values = mine.sorted { $0.key < $1.key }.map { key, value -> (String, JSONText) in
                (key, Double(value).map { $0.isFinite ? JSONText.number($0) : .string(value) } ?? .string(value))
            }
            return JSONResponse.make(.object([
                ("account", .string(model.runtime.account)), ("values", .object(values)),
                ("pnl", .object([("daily", .number(pnl.daily)), ("unrealized", .number(pnl.unrealized)), ("realized", .number(pnl.realized))])),
            ]))
        }
        router.get("/api/risk") { _, _ in JSONResponse.make(await risk(model)) }
        router.get("/api/log") { request, _ in
            let count = try QueryValues.integer(request, "lines", in: 1...LogTail.capacity) ?? 200
            return JSONResponse.make(.object([("lines", .array(model.logTail.newest(count).map(\.json)))]))
        }
        router.get("/api/ingest") { _, _ in JSONResponse.make(model.ingest.json) }
        router.get("/api/quote/{symbol}") { _, context in
            let symbol = try PathValue.decoded(context, "symbol")
            return JSONResponse.make(try await quote(symbol, model: model))
        }
        router.get("/api/bars/{symbol}") { request, context in
            let symbol = try PathValue.decoded(context, "symbol")
            return JSONResponse.make(try await BarsRoute.bars(symbol, request: request, model: model, hasToken: context.hasToken))
        }
    }

    static func status(_ model: ServeModel) async -> JSONText {
        let runtime = model.runtime
        let live = await runtime.liveStatus()
        let closed = runtime.orderFlowClosed
        return .object([
            ("connection", .string(live.connection)), ("account", .string(runtime.account)),
            ("paper", .bool(runtime.paperGateway != nil || runtime.account.hasPrefix("D"))),
            ("host", .string(runtime.host)), ("port", .int(runtime.port)),
            ("server_version", .int(await runtime.serverVersion)), ("journal", .string(runtime.journalPath)),
            ("started_at", RecordJSON.time(runtime.startedAt.timeIntervalSince1970)),
            ("uptime_seconds", .number((Date().timeIntervalSince(runtime.startedAt) * 10).rounded() / 10)),
            ("trading_closed", closed.map { .object([("code", .string($0.code)), ("message", .string($0.message))]) } ?? .null),
            ("daily_pnl", .number(live.dailyPnL)), ("strategies", .int(runtime.strategyNames.count)),
            ("open_orders", .int(live.openOrders)), ("fills", .int(live.fills)), ("positions", .int(live.positions)),
        ])
    }

    static func strategies(_ model: ServeModel) async -> JSONText {
        let kept = model.snapshotOfKept
        let all = await model.runtime.statistics()
        return .array(all.keys.sorted().map { name in
            RecordJSON.statistics(name: name, path: model.runtime.strategyPath(named: name), all[name]!, lastError: kept.lastError[name])
        })
    }

    static func positions(_ model: ServeModel) async -> JSONText {
        let snapshot = await model.runtime.snapshot()
        let quotes = model.runtime.latestQuotes
        let account = snapshot.positions.filter { $0.quantity != 0 }.map { position -> JSONText in
            let quote = quotes[position.symbol]
            let mid = quote.flatMap { q in q.bid.flatMap { bid in q.ask.map { (bid + $0) / 2 } } }
            return .object([("symbol", .string(position.symbol)), ("quantity", .number(position.quantity)),
                            ("average_cost", .number(position.averageCost)), ("market_price", .number(quote?.last ?? mid))])
        }
        var own: [JSONText] = []
        for name in model.runtime.strategyNames {
            let book = PositionBook.own(of: name, in: snapshot)
            for key in book.keys {
                guard let held = book[key] else { continue }
                own.append(.object([("strategy", .string(name)), ("symbol", .string(key)), ("quantity", .number(held.quantity)),
                                    ("average_cost", .number(held.averageCost))]))
            }
        }
        return .object([("account", .array(account)), ("strategies", .array(own))])
    }

    static func risk(_ model: ServeModel) async -> JSONText {
        let host = model.runtime.hostConfiguration
        let snapshot = await model.runtime.snapshot()
        let now = Date().timeIntervalSince1970
        let ours = snapshot.orders.filter { !$0.strategy.isEmpty }
        let open = ours.filter { !$0.status.isTerminal && $0.status != .unknown }.count
        let lastMinute = ours.filter { now - $0.createdAt < 60 }.count
        let limits = host.risk
        func types(_ limits: TypeLimits) -> JSONText { .object(TypeLimits.types.map { ($0, .number(limits[$0])) }) }
        let closed = model.runtime.orderFlowClosed
        return .object([
            ("trading_closed", closed.map { .object([("code", .string($0.code)), ("message", .string($0.message))]) } ?? .null),
            ("limits", .object([
                ("max_order_quantity", types(limits.maxOrderQuantity)), ("max_order_notional", .number(limits.maxOrderNotional)),
                ("max_position", types(limits.maxPosition)), ("max_position_notional", .number(limits.positionNotionalLimit)),
                ("max_open_orders", .int(limits.maxOpenOrders)), ("max_orders_per_minute", .int(limits.maxOrdersPerMinute)),
                ("max_daily_loss", .number(limits.maxDailyLoss)), ("read_only", .bool(limits.readOnly)),
                ("account_max_open_orders", .int(host.accountRisk.maxOpenOrders)),
                ("account_max_orders_per_minute", .int(host.accountRisk.maxOrdersPerMinute)),
            ])),
            ("usage", .object([("open_orders", .int(open)), ("orders_last_minute", .int(lastMinute)),
                               ("daily_pnl", .number(model.snapshotOfKept.pnl.daily))])),
        ])
    }

    static func quote(_ symbol: String, model: ServeModel) async throws -> JSONText {
        do {
            var quote = try await model.runtime.quote(symbol, timeout: 11)
            // Named as asked (`EUR.USD`, not TWS's `EUR`).
            if let key = try? InstrumentSpec.parse(symbol).key { quote.symbol = key }
            return RecordJSON.quote(quote)
        } catch let error as InstrumentSpecError {
            throw APIError.badRequest("'\(symbol)' is not an instrument: \(error)")
        } catch let error as TWSError {
            if case let .ib(code, message, _) = error, code == 200 || code == 354 || code == 10167 || code == 10168 || code == 321 {
                throw APIError.notFound("no quote for \(symbol): TWS said \(code) \(message)")
            }
            if case .timeout = error { throw APIError(.gatewayTimeout, "timeout", "no quote for \(symbol) within 11 s") }
            throw APIError(.badGateway, "tws", "no quote for \(symbol): \(error)")
        }
    }
}

/// Query parameters read strictly: a value that is not what the parameter takes is a 400
/// naming it (`limit=1e300`, `offset=-1`), never a trap or a silent default.
enum QueryValues {
    static func integer(_ request: Request, _ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = request.uri.queryParameters.get(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.badRequest("\(name)=\(text.prefix(40)) is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    static func flag(_ request: Request, _ name: String) throws -> Bool? {
        guard let text = request.uri.queryParameters.get(name) else { return nil }
        switch text.lowercased() {
        case "true", "1", "yes", "": return true
        case "false", "0", "no": return false
        default: throw APIError.badRequest("\(name)=\(text.prefix(40)) is not true or false")
        }
    }
}
