import Foundation
import LuaRuntime
import Testing
import TWSProtocol
@testable import StrategyHost
@testable import TWSClient

/// Generated fuzz of the Lua API with values at the edges (issue 21, item 2): every function
/// the host registers (enumerated from its tables at run time, so a new one cannot be missed),
/// every argument position and every field of its option and instrument tables, with NaN,
/// ±inf, -0, ±1e300, ±2^63, math.maxinteger/mininteger, "", 1 MB, NUL, control characters,
/// deep, shared (DAG) and cyclic tables, functions, booleans and a coroutine. Each call must
/// answer clearly (a raise naming the function, or `nil, { code =, message = }`, or a result),
/// the process must live, and the strategy must keep trading afterwards. Today one of these
/// values traps and takes the whole process down.
@Suite("Edge values at every Lua API function", .serialized)
struct EdgeValueFuzzTests {
    /// The API's tables, as `moonwire check` knows them (its own test keeps this list equal to
    /// what a strategy really has), and the global functions the host registers.
    static let tables = StrategyCheck.api.keys.sorted()
    static let globals = ["now", "print", "collectgarbage", "require"]

    /// The edge values, the specification of each function's arguments, and `fuzz(name)`, which
    /// calls `name` with each edge value at each position and field and returns the problems.
    static let prelude = #"""
        local big = string.rep("x", 1 << 20)
        local deep = {}
        do local d = deep for _ = 1, 100 do d.next = {} d = d.next end end
        local dag = { "leaf" }
        for _ = 1, 10 do dag = { dag, dag, symbol = "AAPL" } end
        local cyclic = { symbol = "AAPL" }
        cyclic.self = cyclic
        local EDGES = {
          { "nan", 0/0 }, { "inf", 1/0 }, { "-inf", -1/0 }, { "-0.0", -0.0 }, { "1e300", 1e300 }, { "-1e300", -1e300 },
          { "2^63", 2^63 }, { "-2^63", -2^63 }, { "maxinteger", math.maxinteger }, { "mininteger", math.mininteger },
          { "empty string", "" }, { "1 MB string", big }, { "A\\0B", "A\0B" }, { "\\1", "\1" }, { "ESC[2J", "\27[2J" },
          { "deep table", deep }, { "DAG table", dag }, { "cyclic table", cyclic },
          { "function", function() end }, { "true", true }, { "false", false }, { "coroutine", coroutine.create(function() end) },
        }
        local INSTRUMENT = { "symbol", "type", "exchange", "currency", "expiry", "strike", "right", "multiplier", "con_id" }
        local ORDER = { "limit", "stop", "trail", "trail_percent", "tif", "outside_rth", "oca", "oca_type", "type" }
        local serial = 0
        -- args(): a fresh list of valid arguments; instrument: the position that names one;
        -- fields: the option fields per position. Valid orders rest far from the market.
        local SPECS = {
          ["market.subscribe"] = { args = function() return { "AAPL", { quotes = true } } end, instrument = 1, fields = { [2] = { "quotes", "bars" } } },
          ["market.unsubscribe"] = { args = function() return { "AAPL" } end, instrument = 1 },
          ["market.quote"] = { args = function() return { "AAPL" } end, instrument = 1 },
          ["market.history"] = { args = function()
              serial = serial + 1  -- no two alike: an identical request would wait 15 s for pacing
              return { "AAPL", { duration = (600 + serial * 60) .. " S", bar = "1 min", what = "TRADES" } }
            end, instrument = 1, fields = { [2] = { "duration", "bar", "what" } } },
          ["market.contract"] = { args = function() return { "AAPL" } end, instrument = 1 },
          ["orders.buy"] = { args = function() return { "AAPL", 1, { limit = 1 } } end, instrument = 1, fields = { [3] = ORDER } },
          ["orders.sell"] = { args = function() return { "AAPL", 1, { limit = 100000 } } end, instrument = 1, fields = { [3] = ORDER } },
          ["orders.place"] = { args = function() return { { symbol = "AAPL", side = "BUY", qty = 1, limit = 1 } } end,
            fields = { [1] = { "symbol", "instrument", "side", "qty", "limit", "stop", "trail", "trail_percent", "tif", "outside_rth", "oca", "oca_type", "type" } } },
          ["orders.bracket"] = { args = function() return { "AAPL", 1, { entry = 1, take_profit = 2, stop_loss = 0.5 } } end, instrument = 1,
            fields = { [3] = { "entry", "take_profit", "stop_loss", "side", "tif" } } },
          ["orders.modify"] = { args = function() return { resting or 1, { limit = 1.01 } } end, fields = { [2] = { "qty", "limit", "stop" } } },
          ["orders.cancel"] = { args = function() return { resting or 1 } end },
          ["orders.cancel_all"] = { args = function() return {} end },
          ["orders.get"] = { args = function() return { resting or 1 } end },
          ["orders.open"] = { args = function() return {} end },
          ["account.position"] = { args = function() return { "AAPL" } end, instrument = 1 },
          ["account.account_position"] = { args = function() return { "AAPL" } end, instrument = 1 },
          ["account.positions"] = { args = function() return {} end },
          ["account.values"] = { args = function() return {} end },
          ["account.pnl"] = { args = function() return {} end },
          ["timer.after"] = { args = function() return { 3600, function() end } end },
          ["timer.every"] = { args = function() return { 3600, function() end } end },
          ["timer.cancel"] = { args = function() return { 999999 } end },
          ["log.info"] = { args = function() return { "x" } end },
          ["log.warn"] = { args = function() return { "x" } end },
          ["log.error"] = { args = function() return { "x" } end },
          ["print"] = { args = function() return { "x" } end },
          ["now"] = { args = function() return {} end },
          ["collectgarbage"] = { args = function() return { "count" } end },
          ["require"] = { args = function() return { "no_such_module" } end },
        }

        local function lookup(name)
          local table_name, key = name:match("^(%w+)%.([%w_]+)$")
          if table_name then return _ENV[table_name][key] end
          return _ENV[name]
        end

        local function copy(t) local c = {} for k, v in pairs(t) do c[k] = v end return c end

        -- The cases of one function: { label, function that builds its arguments }.
        local function cases(name)
          local spec, list = SPECS[name], {}
          local count = #spec.args()
          for _, edge in ipairs(EDGES) do
            for position = 1, count + 1 do
              list[#list + 1] = { ("%s argument %d = %s"):format(name, position, edge[1]), function()
                local args = spec.args() args[position] = edge[2] return args, math.max(count, position) end }
              if spec.instrument == position then
                for _, field in ipairs(INSTRUMENT) do
                  list[#list + 1] = { ("%s argument %d (instrument).%s = %s"):format(name, position, field, edge[1]), function()
                    local args = spec.args() args[position] = { symbol = "AAPL", [field] = edge[2] } return args, count end }
                end
              end
              for _, field in ipairs((spec.fields or {})[position] or {}) do
                list[#list + 1] = { ("%s argument %d .%s = %s"):format(name, position, field, edge[1]), function()
                  local args = spec.args() args[position] = copy(args[position]) args[position][field] = edge[2] return args, count end }
              end
            end
          end
          return list
        end

        -- nil when the answer is clear, else what is wrong with it.
        local function judge(name, ok, a, b)
          if not ok then
            if type(a) ~= "string" then return "raised a " .. type(a) .. ", not a message" end
            if not a:find(name, 1, true) then return "raised without naming " .. name .. ": " .. a:sub(1, 200) end
            return nil
          end
          if a == nil and b ~= nil then
            if type(b) ~= "table" or type(b.code) ~= "string" or b.code == "" or type(b.message) ~= "string" or b.message == "" then
              return "failed without { code =, message = }"
            end
            if b.code == "invalid_argument" and not b.message:find(name, 1, true) then
              return "invalid_argument without naming " .. name .. ": " .. b.message:sub(1, 200)
            end
          end
          return nil
        end

        tally = { calls = 0, raised = 0, refused = 0, answered = 0, problems = {} }
        local function run(name, case)
          local args, count = case[2]()
          local ok, a, b = pcall(lookup(name), table.unpack(args, 1, count))
          tally.calls = tally.calls + 1
          if not ok then tally.raised = tally.raised + 1
          elseif a == nil and b ~= nil then tally.refused = tally.refused + 1
          else tally.answered = tally.answered + 1 end
          local problem = judge(name, ok, a, b)
          if problem then tally.problems[#tally.problems + 1] = case[1] .. ": " .. problem end
        end
        """#

    // MARK: in handlers, against the paper gateway

    @Test("every function, argument position and option field, every edge value, in a handler: a clear answer each, and trading goes on")
    func inHandlers() async throws {
        let source = Self.prelude + #"""

            local TABLES = { \#(Self.tables.map { "\"\($0)\"" }.joined(separator: ", ")) }
            local GLOBALS = { \#(Self.globals.map { "\"\($0)\"" }.joined(separator: ", ")) }

            local all, names = {}, {}
            function on_start()
              -- The functions as the host registered them: one without a spec is a failure.
              for _, t in ipairs(TABLES) do
                for key, value in pairs(_ENV[t]) do if type(value) == "function" then names[#names + 1] = t .. "." .. key end end
              end
              for _, g in ipairs(GLOBALS) do names[#names + 1] = g end
              table.sort(names)
              print("FUNCTIONS " .. table.concat(names, ","))
              for _, name in ipairs(names) do
                if not SPECS[name] then tally.problems[#tally.problems + 1] = name .. ": no fuzz spec (add one)"
                else for _, case in ipairs(cases(name)) do all[#all + 1] = { name, case } end end
              end
              market.subscribe("AAPL")
              resting = orders.buy("AAPL", 1, { limit = 1 })
              timer.after(0.001, step)
            end

            -- A few cases per event (a 1 MB string crosses the boundary in some), waits included.
            local next_case, store_edge = 1, 1
            function step()
              for _ = 1, 8 do
                local item = all[next_case]
                if not item then break end
                next_case = next_case + 1
                run(item[1], item[2])
              end
              if next_case <= #all then timer.after(0.001, step) else timer.after(0.001, store_step) end
            end

            -- `store` takes each edge value in turn (journaled after each event, or reported).
            function store_step()
              local edge = EDGES[store_edge]
              if edge then
                store.fuzz = edge[2]
                store_edge = store_edge + 1
                timer.after(0.001, store_step)
                return
              end
              store.fuzz = "after the edges"
              for i = 1, math.min(#tally.problems, 40) do print("PROBLEM " .. tally.problems[i]) end
              print(("FUZZ DONE calls=%d raised=%d refused=%d answered=%d problems=%d"):format(
                tally.calls, tally.raised, tally.refused, tally.answered, #tally.problems))
              -- Still trading: quotes come (a fuzzed call may have unsubscribed), an order gets an id.
              done = true
              market.subscribe("AAPL")
              local id, err = orders.buy("AAPL", 1, { limit = 1 })
              print("FINAL ORDER " .. tostring(id) .. " " .. tostring(err and err.message))
            end

            local quotes_after = 0
            function on_quote(q)
              if done then
                quotes_after = quotes_after + 1
                if quotes_after == 3 then print("QUOTES AFTER") end
              end
            end
            """#
        let rig = try await Rig.start(source, host: { config in
            // Room for a 1 MB string through a debug build on a loaded machine; limits wide
            // enough that the orders the fuzz does place are not what refuses the last one.
            config.strategy.budgetMs = 2_000
            config.strategy.hardLimitMs = 20_000
            config.risk.maxOrdersPerMinute = 10_000
            config.risk.maxOpenOrders = 10_000
            config.risk.maxPosition = 1e9
            config.risk.maxOrderQuantity = 1e9
            config.risk.maxOrderNotional = 1e12
            config.accountRisk.maxOpenOrders = 10_000
            config.accountRisk.maxOrdersPerMinute = 10_000
            config.accountRisk.maxPosition = 1e9
        })
        do {
            try await eventually("the fuzz to finish", timeout: 240) {
                await rig.lines().contains { $0.hasPrefix("FUZZ DONE") }
            }
            // Generous: the orders the fuzz placed and cancelled are still leaving at the client's
            // 50 messages a second, and the new subscription queues behind them.
            try await eventually("quotes and an order id after the fuzz", timeout: 120) {
                let lines = await rig.lines()
                return lines.contains("QUOTES AFTER") && lines.contains { $0.hasPrefix("FINAL ORDER") }
            }
            let lines = await rig.lines()
            let functions = lines.first { $0.hasPrefix("FUNCTIONS ") }.map { $0.dropFirst(10).split(separator: ",").map(String.init) } ?? []
            #expect(functions.count >= 25, "the API's functions were not enumerated: \(functions)")
            let problems = lines.filter { $0.hasPrefix("PROBLEM ") }
            #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
            let done = lines.first { $0.hasPrefix("FUZZ DONE") } ?? ""
            #expect(done.hasSuffix("problems=0"), "\(done)")
            let final = lines.first { $0.hasPrefix("FINAL ORDER") } ?? ""
            #expect(final.hasPrefix("FINAL ORDER ") && Int(final.split(separator: " ")[2]) != nil, "the last valid order got no id: \(final)")
            // Nothing a strategy passed closed trading (the journal took every order it was given).
            #expect(rig.runner.orderFlowClosed == nil, "\(String(describing: rig.runner.orderFlowClosed))")
            #expect(await rig.statistics().hung == false)
            // The store works after every edge value it was given.
            try await eventually("the last store journaled") {
                rig.journal.loadStore(strategy: "test_strategy").map { String(decoding: $0, as: UTF8.self).contains("after the edges") } == true
            }
        } catch {
            // What the strategy last said and what the client still has to send: the reason a
            // wait above ran out.
            let last = await rig.lines().suffix(8)
            let queued = try? await rig.client.eventLoop.submit {
                "\(rig.client.outgoing.count) queued, \(rig.client.pending.count) pending, timer \(rig.client.outgoingTimer != nil), "
                    + "delay \(rig.client.limiter.delay(now: Date().timeIntervalSince1970)), ready \(rig.client.machine.isReady), "
                    + "by kind \(Dictionary(grouping: rig.client.outgoing, by: \.name).mapValues(\.count)), "
                    + "cancel ids \(Set(rig.client.outgoing.compactMap { if case let .cancelOrder(c) = $0 { c.orderId } else { nil } }).count)"
            }.get()
            Issue.record("last lines: \(Array(last)); client queue, pending: \(String(describing: queued))")
            await rig.stop()
            throw error
        }
        await rig.stop()
    }

    // MARK: at a file's top level, as `moonwire check` loads it

    @Test("every function with every edge value at a file's top level, through moonwire check's code path", arguments: Self.functionsForCheck)
    func atTopLevel(_ name: String) async throws {
        let source = Self.prelude + #"""

            for _, case in ipairs(cases("\#(name)")) do run("\#(name)", case) end
            if #tally.problems > 0 then error("FUZZ PROBLEMS\n" .. table.concat(tally.problems, "\n", 1, math.min(#tally.problems, 40))) end
            function on_start() end
            """#
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-check-\(UUID().uuidString).lua").path
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await StrategyCheck.check(path: path)
        #expect(result.errors.isEmpty, "\(result.errors.joined(separator: "\n"))")
        #expect(result.handlers == ["on_start"], "the file did not load to its end")
    }

    /// The functions the top-level fuzz covers: the spec table's, checked against the API.
    static let functionsForCheck: [String] = StrategyCheck.api.flatMap { table, names in names.map { "\(table).\($0)" } }.sorted() + globals

    // MARK: the cases issue 21 names, one by one

    @Test("the numbers that crashed the process: each refused at the call as invalid_argument, naming the argument")
    func namedCases() async throws {
        let cases: [(call: String, expect: String)] = [
            ("timer.after(1e10, function() end)", "timer.after: argument 1 (seconds) 10000000000 is out of range"),
            ("market.quote{symbol = 'AAPL', con_id = 1e300}", "market.quote: argument 1 (instrument).con_id 1e+300 is out of range"),
            ("market.quote{symbol = 'AAPL', con_id = math.maxinteger}", "market.quote: argument 1 (instrument).con_id 9223372036854775807 is out of range"),
            ("market.quote{symbol = 'AAPL', con_id = 0/0}", "market.quote: argument 1 (instrument).con_id"),
            ("market.quote{symbol = 'AAPL', multiplier = 1e300}", "market.quote: argument 1 (instrument).multiplier 1e+300 is out of range"),
            ("orders.buy('AAPL', 1, {limit = 1e20})", "orders.buy: options.limit 1e+20 is out of range"),
            ("orders.buy('AAPL', 1e19)", "orders.buy: argument 2 (qty) 1e+19 is out of range"),
            ("market.subscribe('AAPL', {bars = '999999999999999999 months'})", "market.subscribe: options.bars \"999999999999999999 months\""),
            ("market.history('AAPL', {duration = '99999999999999999 Y'})", "market.history: options.duration \"99999999999999999 Y\""),
            ("orders.buy({symbol = 'AAPL\\1'}, 1, {limit = 10})", "orders.buy: argument 1 (instrument).symbol contains a character TWS does not accept"),
            ("orders.place{symbol = 'AAPL', side = 'BUY', qty = 1, limit = 10, oca = 'G\\0'}", "orders.place: order.oca contains a character"),
            ("orders.modify(1, {limit = 0/0})", "orders.modify: changes.limit nan is out of range"),
            ("orders.get(2^63)", "orders.get: argument 1 (id) 9.223372036854776e+18 is out of range"),
        ]
        let source = "function on_start()\n" + cases.enumerated().map { index, item in
            "  do local ok, a, b = pcall(function() return \(item.call) end) print(\"CASE \(index) \" .. tostring(ok) .. \" \" .. tostring(a) .. \" \" .. (type(b) == 'table' and b.code .. ' ' .. b.message or tostring(b))) end"
        }.joined(separator: "\n") + "\n  local id = orders.buy('AAPL', 1, { limit = 10 })\n  print('AFTER ' .. tostring(id))\nend\n"
        let rig = try await Rig.start(source)
        do {
            try await eventually("the cases") { await rig.lines().contains { $0.hasPrefix("AFTER") } }
            let lines = await rig.lines()
            for (index, item) in cases.enumerated() {
                let line = lines.first { $0.hasPrefix("CASE \(index) ") } ?? ""
                #expect(line.hasPrefix("CASE \(index) true nil invalid_argument ") && line.contains(item.expect), "\(item.call): \(line)")
            }
            // One bad symbol is its own call's error: the next order still gets an id.
            let after = lines.first { $0.hasPrefix("AFTER") } ?? ""
            #expect(Int(after.dropFirst(6)) != nil, "\(after)")
            #expect(rig.runner.orderFlowClosed == nil)
        } catch {
            await rig.stop()
            throw error
        }
        await rig.stop()
    }

    @Test("an order TWS or the journal could not take is refused before an id, whatever field it is in")
    func unsendableOrder() async throws {
        let rig = try await Rig.start("function on_start() end")
        let strategy = rig.strategy
        let refusal = try await strategy.loop.submit { () -> [LuaValue] in
            var contract = Contract(symbol: "AAPL")
            contract.localSymbol = "AAPL\u{1}"  // a field no strategy sets: the resolved contract's
            let order = Order(action: "BUY", quantity: 1, type: "LMT", limit: 10, tif: "DAY")
            return strategy.unsendable("orders.buy", contract, [order]) ?? []
        }.get()
        await rig.stop()
        #expect(refusal.count == 2 && refusal[1]["code"] == .string("invalid_argument"), "\(refusal)")
        #expect(refusal.count == 2 && refusal[1]["message"].string?.contains("orders.buy: the order cannot be sent to TWS") == true, "\(refusal)")
    }

    @Test("the span parser refuses what would overflow, at the edge of its caps")
    func spans() {
        #expect(HistoricalSpan.durationSeconds("99999999999999999 Y") == nil)
        #expect(HistoricalSpan.durationSeconds("9223372036854775807 S") == nil)
        #expect(HistoricalSpan.durationSeconds("99999999999999999999999 S") == nil)
        #expect(HistoricalSpan.durationSeconds("100 Y") == 100 * 365 * 86400)
        #expect(HistoricalSpan.durationSeconds("101 Y") == nil)
        #expect(HistoricalSpan.durationSeconds("1 D") == 86400 && HistoricalSpan.durationSeconds("3600 S") == 3600)
        #expect(HistoricalSpan.barSeconds("999999999999999999 months", strict: false) == nil)
        #expect(HistoricalSpan.barSeconds("9223372036854775807 secs", strict: false) == nil)
        #expect(HistoricalSpan.barSeconds("12 months", strict: false) == 360 * 86400)
        #expect(HistoricalSpan.barSeconds("5 mins") == 300 && HistoricalSpan.barSeconds("7 mins") == nil)
        #expect(HistoricalSpan.barSeconds("-5 secs", strict: false) == nil && HistoricalSpan.barSeconds("", strict: false) == nil)
    }

    @Test("checked conversions: no edge value gets through, -0 is 0, messages name the value")
    func checked() throws {
        for bad in [Double.nan, .infinity, -.infinity, 1e300, -1e300, 0x1p63, -0x1p63] {
            #expect(throws: LuaInvalidArgument.self, "\(bad)") { try LuaChecked.integer(bad, "x", in: 0...100) }
            #expect(throws: LuaInvalidArgument.self, "\(bad)") { try LuaChecked.nanoseconds(bad, "x", in: 0.001...1e6) }
        }
        #expect(throws: LuaInvalidArgument.self) { try LuaChecked.integer(1.5, "x", in: 0...100) }
        #expect(LuaChecked.show(-Double.nan) == "nan" && LuaChecked.show(-0.0) == "-0" && LuaChecked.show(-0x1p63) == "-9.223372036854776e+18")
        #expect(throws: LuaInvalidArgument.self) { try LuaChecked.integer(LuaValue.integer(.max), "x", in: 0...100) }
        #expect(try LuaChecked.integer(LuaValue.integer(.max), "x", in: 0...Int64.max) == .max)
        #expect(try LuaChecked.integer(-0.0, "x", in: 0...1) == 0)
        #expect(try LuaChecked.number(-0.0, "x", in: 0...1).sign == .plus)
        #expect(throws: LuaInvalidArgument.self) { try LuaChecked.number(0, "x", in: 0...1, excludingLower: true) }
        #expect(try LuaChecked.nanoseconds(1.5, "x", in: 0.001...10) == 1_500_000_000)
        for bad in ["", "A\0B", "\u{1}", "\u{1b}[2J", "é", String(repeating: "x", count: 65)] {
            #expect(throws: LuaInvalidArgument.self, "\(bad.debugDescription)") { try LuaChecked.text(bad, "x") }
        }
        #expect(try LuaChecked.text("", "x", allowEmpty: true) == "")
        do {
            _ = try LuaChecked.text(String(repeating: "y", count: 1 << 20), "orders.buy: options.oca")
        } catch let error as LuaInvalidArgument {
            #expect(error.message.hasPrefix("orders.buy: options.oca is 1048576 bytes long (at most 64)"))
            #expect(error.message.utf8.count < 200, "a 1 MB value is not echoed whole")
        }
    }

    @Test("an extension's checked accessors: out of range is invalid_argument naming the argument, a wrong type raises")
    func extensionArguments() throws {
        let arguments = ExtensionArguments(call: "signals.latest", strategy: "s",
                                           values: [.number(.nan), .integer(.max), .string("x"), .number(-0.0)])
        #expect(throws: LuaInvalidArgument("signals.latest: argument 1 (weight) nan is out of range (it must be at least 0 and at most 1)")) {
            try arguments.number(1, "weight", in: 0...1)
        }
        #expect(throws: LuaInvalidArgument.self) { try arguments.integer(2, "count", in: 0...1_000) }
        #expect(throws: LuaArgumentError.self) { try arguments.integer(3, "count", in: 0...1_000) }
        #expect(try arguments.integer(4, "count", in: 0...1_000) == 0)
    }

    // MARK: the corpus

    @Test("numbers at the edges (Tests/Hostile/numbers_*.lua): refused at the call, the strategy beside keeps its quotes",
          arguments: HostileAttack.all(prefix: "numbers_"))
    func corpus(_ attack: HostileAttack) async throws {
        try await HostileCorpusTests().attack(attack)
    }

    @Test("the numbers corpus covers the cases of issue 21, and each loads in moonwire check")
    func corpusChecks() async throws {
        let attacks = HostileAttack.all(prefix: "numbers_")
        #expect(attacks.count >= 5)
        for attack in attacks {
            let result = try await StrategyCheck.check(path: attack.file.path)
            #expect(result.errors.isEmpty, "\(attack.name): \(result.errors)")
        }
    }
}
