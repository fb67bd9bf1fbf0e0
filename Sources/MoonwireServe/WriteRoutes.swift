import Foundation
import Hummingbird
import Logging
import Moonwire
import StrategyHost

/// The API's writes (docs/http-api.md, "Writes"): each through the runtime's own calls, the
/// ones `moonwire run`, `moonwire halt` and `moonwire reload` use.
enum WriteRoutes {
    static func add(to router: Router<ServeContext>, model: ServeModel) {
        let runtime = model.runtime
        // Every write leaves a line in the run's log (console and file): who did what.
        var logger = Logger(label: "http-api")
        logger.logLevel = .notice
        let log = logger
        router.post("/api/strategies") { request, context in
            let body = try await JSONBody.read(request, context: context, fields: ["file", "name", "params"])
            guard let file = body["file"] as? String, !file.isEmpty else { throw APIError.badRequest("file is required: the strategy's .lua path") }
            let path = try StrategyFolders.check(file, allowed: model.strategyFolders)
            let name = try JSONBody.optionalString(body, "name")
            if let name, !StrategyFolders.isName(name) {
                throw APIError.badRequest("name '\(name.prefix(60))' must be letters, digits, '_', '-' or '.' (at most 64): it is part of the API's paths")
            }
            var params: [String: String] = [:]
            if let given = body["params"] {
                guard let mapping = given as? [String: Any] else { throw APIError.badRequest("params must be an object of key: value") }
                for (key, value) in mapping { params[key] = value as? String ?? "\(value)" }
            }
            do {
                let added = try await runtime.addStrategy(file: path, name: name, params: params)
                log.notice("\(PathValue.client(context)) added strategy \(added) from \(file)")
                return JSONResponse.make(.object([("name", .string(added))]), status: .created)
            } catch let error as MoonwireError {
                throw APIError.badRequest(error.message)
            }
        }
        router.delete("/api/strategies/{name}") { request, context in
            let name = try PathValue.decoded(context, "name")
            let cancel = try QueryValues.flag(request, "cancel_orders") ?? false
            guard let statistics = await runtime.removeStrategy(named: name, cancelOrders: cancel) else { throw unknown(name) }
            log.notice("\(PathValue.client(context)) removed strategy \(name)\(cancel ? " (its open orders cancelled)" : "")")
            var removed = RecordJSON.statistics(name: name, path: nil, statistics, lastError: nil)
            if case var .object(fields) = removed, let index = fields.firstIndex(where: { $0.0 == "state" }) {
                fields[index].1 = .string("removed")
                removed = .object(fields)
            }
            return JSONResponse.make(removed)
        }
        for (action, paused) in [("pause", true), ("resume", false)] {
            router.post("/api/strategies/{name}/\(action)") { _, context in
                log.notice("\(PathValue.client(context)) asked to \(action) \((try? PathValue.decoded(context, "name")) ?? "?")")
                let name = try PathValue.decoded(context, "name")
                guard runtime.strategyNames.contains(name) else { throw unknown(name) }
                guard let now = await runtime.setPaused(strategy: name, paused) else {
                    throw APIError(.conflict, "hung", "\(name) does not answer (hung): it cannot be \(paused ? "paused" : "resumed")")
                }
                return JSONResponse.make(.object([("name", .string(name)), ("state", .string(now ? "paused" : "running"))]))
            }
        }
        router.post("/api/strategies/{name}/reload") { _, context in
            let name = try PathValue.decoded(context, "name")
            guard let outcome = await runtime.reload(strategy: name) else { throw unknown(name) }
            log.notice("\(PathValue.client(context)) reloaded \(name): \(outcome.succeeded ? "done" : "failed, the old code runs")")
            return JSONResponse.make(.object([("name", .string(name)), ("succeeded", .bool(outcome.succeeded)), ("hash", .string(outcome.hash)),
                                              ("error", .string(outcome.error))]))
        }
        router.post("/api/orders/{id}/cancel") { _, context in
            let text = try PathValue.decoded(context, "id")
            guard let id = Int(text), id > 0 else { throw APIError.badRequest("order id '\(text.prefix(40))' is not a positive whole number") }
            do {
                try await runtime.cancel(orderId: id)
            } catch let refusal as MoonwireRuntime.CancelRefusal {
                switch refusal {
                case .unknownOrder: throw APIError.notFound("no order \(id) in this run's records")
                case .notOurs: throw APIError(.forbidden, "not_ours", "order \(id) was not placed by a strategy of this run: cancel it in TWS")
                case let .notOpen(status): throw APIError(.conflict, "not_open", "order \(id) is \(status): nothing to cancel")
                }
            }
            log.notice("\(PathValue.client(context)) cancelled order \(id)")
            return JSONResponse.make(.object([("order_id", .int(id)), ("cancel", .string("sent"))]), status: .accepted)
        }
        router.post("/api/flatten/{symbol}") { request, context in
            let symbol = try PathValue.decoded(context, "symbol")
            let body = try await JSONBody.read(request, context: context, emptyAllowed: true, fields: ["strategy"])
            let only = try JSONBody.optionalString(body, "strategy")
            if let only, !runtime.strategyNames.contains(only) { throw unknown(only) }
            let key: String
            do { key = try InstrumentSpec.parse(symbol).key } catch { throw APIError.badRequest("'\(symbol.prefix(60))' is not an instrument: \(error)") }
            let outcomes = await runtime.flatten(key, strategy: only)
            guard !outcomes.isEmpty else {
                throw APIError.notFound("no strategy\(only.map { " named \($0)" } ?? "") holds \(key) or has an open order in it: nothing to flatten")
            }
            let names = outcomes.keys.sorted()
            log.notice("\(PathValue.client(context)) flattened \(key): \(names.map { describe(outcomes[$0]!, of: $0) }.joined(separator: "; "))")
            return JSONResponse.make(.object([
                ("symbol", .string(key)),
                ("cancelled", .array(names.flatMap { outcomes[$0]!.cancelled.map { .int($0) } })),
                ("closing", .array(names.compactMap { name in
                    outcomes[name]!.closingOrder.map { id in
                        .object([("strategy", .string(name)), ("order_id", .int(id)), ("action", .string(outcomes[name]!.action)),
                                 ("quantity", .number(outcomes[name]!.quantity))])
                    }
                })),
                ("refused", .array(names.compactMap { name in
                    outcomes[name]!.refused.map { .object([("strategy", .string(name)), ("error", .string($0))]) }
                })),
            ]))
        }
        router.post("/api/halt") { request, context in
            let body = try await JSONBody.read(request, context: context, emptyAllowed: true, fields: ["everything"])
            let everything = try JSONBody.optionalBool(body, "everything") ?? false
            let by = "the HTTP API (\(PathValue.client(context)))"
            log.warning("\(by) pulled the kill switch\(everything ? " for every order of the account" : "")")
            let report = await runtime.halt(everything: everything, by: by)
            log.warning("halt: \(report.cancelled.count) order(s) cancelled, \(report.left.count) left open\(report.complete ? "" : " (not confirmed complete)")")
            return JSONResponse.make(.object([
                ("complete", .bool(report.complete)), ("cancelled", .array(report.cancelled.map { .int($0) })),
                ("not_sent", .array(report.notSent.map { .int($0) })), ("filled", .array(report.filled.map { .int($0) })),
                ("left", .array(report.left.map { .int($0.orderId) })),
            ]))
        }
    }

    static func describe(_ outcome: Strategy.FlattenOutcome, of name: String) -> String {
        var text = "\(name) cancelled \(outcome.cancelled.count) order(s)"
        if let id = outcome.closingOrder { text += ", closing \(outcome.action) \(outcome.quantity) at market (order \(id))" }
        if let refused = outcome.refused { text += ", close refused: \(refused)" }
        return text
    }

    static func unknown(_ name: String) -> APIError {
        APIError.notFound("no strategy named \(name.prefix(80)) is running")
    }
}

/// A request's JSON object body, at most 64 KiB; anything else is a 400 that says so.
enum JSONBody {
    /// `fields`: the only keys it may have (a mistyped or foreign key is refused, never ignored).
    static func read(_ request: Request, context: ServeContext, emptyAllowed: Bool = false, fields: Set<String>) async throws -> [String: Any] {
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        if buffer.readableBytes == 0 {
            guard emptyAllowed else { throw APIError.badRequest("the request needs a JSON object body") }
            return [:]
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))
        } catch {
            throw APIError.badRequest("the body is not valid JSON")
        }
        guard let mapping = object as? [String: Any] else { throw APIError.badRequest("the body must be a JSON object") }
        if let unknown = mapping.keys.sorted().first(where: { !fields.contains($0) }) {
            throw APIError.badRequest("'\(unknown.prefix(60))' is not a field of this request (it takes \(fields.sorted().joined(separator: ", ")))")
        }
        return mapping
    }

    static func optionalString(_ body: [String: Any], _ key: String) throws -> String? {
        guard let value = body[key], !(value is NSNull) else { return nil }
        guard let text = value as? String, !text.isEmpty else { throw APIError.badRequest("\(key) must be a non-empty string") }
        return text
    }

    static func optionalBool(_ body: [String: Any], _ key: String) throws -> Bool? {
        guard let value = body[key], !(value is NSNull) else { return nil }
        guard let flag = value as? Bool else { throw APIError.badRequest("\(key) must be true or false") }
        return flag
    }
}

/// A path parameter, percent-decoded (`ES%20202612` is `ES 202612`), and who asked.
enum PathValue {
    static func decoded(_ context: ServeContext, _ name: String) throws -> String {
        let raw = try context.parameters.require(name)
        return raw.removingPercentEncoding ?? raw
    }

    static func client(_ context: ServeContext) -> String { context.remoteAddress?.ipAddress ?? "a client" }
}

/// Which files `POST /api/strategies` may load: `.lua` files (at most `Strategy.maxFileBytes`)
/// inside the folders the run was started with (its working folder and the folders of the
/// strategies given at start). Anything else would let the token's holder have any readable
/// file parsed as Lua, and its error messages quote the file.
enum StrategyFolders {
    static func check(_ file: String, allowed: [String]) throws -> String {
        let path = URL(fileURLWithPath: file).standardizedFileURL.resolvingSymlinksInPath().path
        guard path.hasSuffix(".lua") else { throw APIError.badRequest("\(file.prefix(200)): a strategy is a .lua file") }
        guard allowed.contains(where: { path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) else {
            throw APIError(.forbidden, "outside", "\(file.prefix(200)) is outside the strategy folders of this run (\(allowed.joined(separator: ", ")))")
        }
        return path
    }

    static func isName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name != "." && name != ".."
            && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "_-.".unicodeScalars.contains($0) }
    }
}
