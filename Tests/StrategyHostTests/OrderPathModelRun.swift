import Foundation
import NIOCore
import TWSClient
import TWSProtocol
@testable import PaperGateway
@testable import StrategyHost
@testable import TradingState

/// A failed run of the order-path model: the seed, the step, what differs, and the steps
/// that led there (all of them in `stepsFile`), so that the run can be replayed.
struct OrderPathModelFailure: Error, CustomStringConvertible {
    let seed: UInt64
    let step: Int
    let what: String
    let problems: [String]
    let steps: [String]
    let stepsFile: String

    var description: String {
        """
        order-path model FAILED: seed=\(seed) at step \(step) (\(what))
        replay: MOONWIRE_MODEL_SEED=\(seed) MOONWIRE_MODEL_SEQUENCES=1 MOONWIRE_MODEL_STEPS=\(step + 1) Scripts/soak-order-model
        what differs:
        \(problems.prefix(30).map { "  - " + $0 }.joined(separator: "\n"))
        the last steps (all \(steps.count) in \(stepsFile)):
        \(steps.suffix(40).map { "  " + $0 }.joined(separator: "\n"))
        """
    }
}

/// One random sequence of the order path against the paper gateway with the manual clock:
/// place (valid and invalid), modify (valid and invalid), cancel, market moves that fill
/// (in parts: the gateway fills at most the size its quote shows), a replay of executions,
/// a disconnect with fills during the gap, the kill switch, and a restart of Moonwire on the
/// same journal. At every quiet point the invariants of `OrderPathModelCheck` must hold
/// (waited for, up to `settleSeconds`); while the gate is closed nothing may reach the gateway.
final class OrderPathModelRun {
    static let symbols = ["AAPL", "MSFT"]
    static let settleSeconds = 20.0

    let seed: UInt64
    let steps: Int
    var random: OrderPathModelRandom
    let server: PaperGatewayServer
    let folder: URL
    var moonwire: OrderPathModelMoonwire
    var journalPath: String { folder.appendingPathComponent("journal.sqlite").path }
    var step = 0
    private(set) var log: [String] = []
    /// Ids the model handed to the runner, in order (targets of modifies and cancels).
    var placed: [Int] = []
    /// Ids Moonwire said never left (the gate or the socket stopped them).
    var neverSent: Set<Int> = []
    var halted = false
    /// The current Moonwire crashed and no new one started (it must not be touched again).
    var crashed = false
    private var sinceCheck = 0
    private var lastGateway = OrderPathGatewayView()
    var startPrices: [String: Double] = [:]
    /// What happened, for the summary and for the CI run's check that it did something.
    private(set) var counts: [String: Int] = [:]

    private init(seed: UInt64, steps: Int, server: PaperGatewayServer, folder: URL, moonwire: OrderPathModelMoonwire) {
        self.seed = seed
        self.steps = steps
        self.random = OrderPathModelRandom(seed: seed)
        self.server = server
        self.folder = folder
        self.moonwire = moonwire
    }

    static func start(seed: UInt64, steps: Int) async throws -> OrderPathModelRun {
        var config = PaperGatewayConfig()
        config.port = 0
        config.market.clock = "manual"  // quotes move only on `step`: fills follow from the steps
        config.fills.partialFills = true  // at most the quote's size per match: orders fill in parts
        let server = try await PaperGatewayServer.start(config: config)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-model-\(seed)-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let moonwire = try await OrderPathModelMoonwire.start(port: server.port, journal: folder.appendingPathComponent("journal.sqlite").path)
            let run = OrderPathModelRun(seed: seed, steps: steps, server: server, folder: folder, moonwire: moonwire)
            run.startPrices = try await server.withEngine { engine in
                Dictionary(uniqueKeysWithValues: Self.symbols.map { ($0, engine.market.instrument(symbol: $0)?.startPrice ?? 100) })
            }
            return run
        } catch {
            try? await server.shutdown()
            throw error
        }
    }

    func finish(keepFolder: Bool = false) async {
        if !crashed { await moonwire.stop() }
        try? await server.shutdown()
        if !keepFolder { try? FileManager.default.removeItem(at: folder) }
    }

    var summary: String {
        "seed \(seed): \(step) steps; " + counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    func note(_ line: String) {
        log.append("#\(step) \(line)")
        // MOONWIRE_MODEL_TRACE=1: every step as it happens (where a hang stopped).
        if OrderPathModelSettings.environment["MOONWIRE_MODEL_TRACE"] == "1" {
            FileHandle.standardError.write(Data("model \(seed) #\(step) \(line)\n".utf8))
        }
    }
    func count(_ what: String, _ n: Int = 1) { counts[what, default: 0] += n }

    // MARK: The run

    enum Operation: CaseIterable {
        case place, placeInvalid, modify, modifyInvalid, cancel, step, price, replay, quiet, disconnect, halt, restart
    }

    static let weights: [(Operation, Int)] = [
        (.place, 24), (.placeInvalid, 3), (.modify, 9), (.modifyInvalid, 5), (.cancel, 9), (.step, 14), (.price, 7),
        (.replay, 2), (.quiet, 18), (.disconnect, 4), (.halt, 1), (.restart, 3),
    ]

    func run() async throws {
        try await checkpoint("start")
        while step < steps {
            let operation = random.weighted(Self.weights)
            switch operation {
            case .place: try await place(valid: true)
            case .placeInvalid: try await place(valid: false)
            case .modify: try await modify(valid: true)
            case .modifyInvalid: try await modify(valid: false)
            case .cancel: cancel()
            case .step: try await control("step \(1 + random.below(5))")
            case .price: try await movePrice()
            case .replay: try await control("replay-executions")
            case .quiet: try await checkpoint("quiet")
            case .disconnect: try await disconnect()
            case .halt: try await halt()
            case .restart: try await restart(reason: "restart")
            }
            step += 1
            sinceCheck += 1
            // Never more than a few operations in flight at once: a failure stays near its cause.
            if sinceCheck >= 4 { try await checkpoint("every few steps") }
        }
        try await checkpoint("end")
    }

    /// Waits for a quiet moment at which every invariant holds; fails with what differs when
    /// none comes within `settleSeconds`.
    func checkpoint(_ why: String) async throws {
        let deadline = Date().addingTimeInterval(Self.settleSeconds)
        while true {
            let gateway = try await OrderPathGatewayView.read(server, symbols: Self.symbols)
            let view = await OrderPathMoonwireView.read(moonwire)
            let problems = OrderPathModelCheck.problems(gateway: gateway, moonwire: view, neverSent: neverSent, halted: halted)
            if problems.isEmpty {
                lastGateway = gateway
                sinceCheck = 0
                count("quiet points")
                return
            }
            guard Date() < deadline else { throw failure("not quiet within \(Int(Self.settleSeconds)) s at a \(why) check", problems) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func failure(_ what: String, _ problems: [String]) -> OrderPathModelFailure {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-model-seed-\(seed)-steps.txt")
        try? (["seed=\(seed)"] + log).joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        return OrderPathModelFailure(seed: seed, step: step, what: what, problems: problems, steps: log, stepsFile: file.path)
    }

    @discardableResult
    func control(_ command: String) async throws -> String {
        let reply = try await server.withEngine { engine in engine.control(command) }
        note("gateway: \(command) -> \(reply)")
        if command.hasPrefix("step") { count("steps of the market") }
        if command.hasPrefix("replay") { count("replays of executions") }
        return reply
    }

    private func quote(_ symbol: String) async throws -> OrderPathGatewayView.Quote {
        try await server.withEngine { engine in
            let quote = engine.market.quote(symbol: symbol)
            return OrderPathGatewayView.Quote(bid: quote?.bid ?? 100, ask: quote?.ask ?? 100)
        }
    }

    static func cents(_ price: Double) -> Double { (max(price, 0.01) * 100).rounded() / 100 }

    // MARK: Operations

    /// A new order through the runner, as a strategy's: market, a limit that crosses (it fills
    /// now, in parts when larger than the quote shows), one that rests, or an IOC. Invalid:
    /// a price off the tick grid, or one the gateway is told to reject.
    func place(valid: Bool) async throws {
        let symbol = random.pick(Self.symbols)
        let quote = try await quote(symbol)
        let held = lastGateway.positions[symbol] ?? 0
        // Side: random, but leaning back toward flat past 3000 shares either way.
        let buy = held > 3000 ? false : held < -3000 ? true : random.chance(0.5)
        let quantity = Double(100 * (1 + random.below(15)))
        var order: Order
        let style = random.below(10)
        let touch = buy ? quote.ask : quote.bid
        let away = (buy ? -1.0 : 1.0) * touch * (0.001 + 0.03 * random.unit())
        switch style {
        case 0: order = Order(action: buy ? "BUY" : "SELL", quantity: TWSDecimal(approximating: quantity), type: "MKT")
        case 1: order = Order(action: buy ? "BUY" : "SELL", quantity: TWSDecimal(approximating: quantity), type: "LMT",
                              limit: Self.cents(touch), tif: "IOC")
        case 2...4: order = Order(action: buy ? "BUY" : "SELL", quantity: TWSDecimal(approximating: quantity), type: "LMT",
                                  limit: Self.cents(touch + (buy ? 0.01 : -0.01) * Double(random.below(3))))
        default: order = Order(action: buy ? "BUY" : "SELL", quantity: TWSDecimal(approximating: quantity), type: "LMT",
                               limit: Self.cents(touch + away))
        }
        var what = "place"
        if !valid {
            if random.chance(0.5) || order.orderType == "MKT" {
                try await control("reject-next model: refused by the model")
                what = "place (the gateway rejects it)"
            } else {
                order.lmtPrice = (order.lmtPrice ?? touch) + 0.005  // off the 0.01 grid: error 110
                what = "place (off the tick grid)"
            }
        }
        let terms = "\(order.action) \(Int(quantity)) \(symbol) \(order.orderType) \(order.lmtPrice.map { "\($0)" } ?? "") \(order.tif)"
        do {
            let id = try moonwire.runner.submitNew(contract: Contract(symbol: symbol), order: order, strategy: OrderPathModelMoonwire.strategy)
            placed.append(id)
            note("\(what) \(terms) -> id \(id)")
            count(valid ? "orders placed" : "invalid orders placed")
        } catch {
            note("\(what) \(terms) -> refused: \(error)")
            count("orders refused by the runner")
            // A `reject-next` left armed would reject the next order of another step.
            if !valid && what.contains("rejects") { try await control("reject-next model: refused by the model") }
        }
    }

    /// A modification through the runner of an order the model placed. Valid: a new limit on
    /// the grid, or a quantity at or above what filled. Invalid: a quantity below what filled
    /// (or zero), a fractional one, or a limit off the grid: the order must work on unchanged,
    /// at both ends. Orders already done are modified too (both ends refuse it).
    private func modify(valid: Bool) async throws {
        guard !placed.isEmpty else { return }
        let id = random.pick(placed)
        let gateway = try await OrderPathGatewayView.read(server, symbols: Self.symbols)
        guard let order = gateway.orders[id] else {
            moonwire.runner.modify(id: id, quantity: 100, limit: nil, stop: nil)
            note("modify order \(id) (not at the gateway) quantity 100")
            count("modifies of orders not at the gateway")
            return
        }
        var quantity: Double?
        var limit: Double?
        if valid {
            if order.type == "LMT" && random.chance(0.6) {
                let base = order.limit ?? gateway.quotes[order.symbol]?.bid ?? 100
                limit = Self.cents(base * (1 + 0.02 * (random.unit() - 0.5)))
            } else {
                quantity = (order.filled / 100).rounded(.down) * 100 + Double(100 * (1 + random.below(10)))
            }
        } else {
            switch random.below(3) {
            case 0 where order.filled >= 100: quantity = order.filled - 100  // below what filled (0: no size)
            case 1: quantity = order.quantity + 50.5  // fractional: refused through the API
            default:
                if order.type == "LMT" { limit = (order.limit ?? 100) + 0.005 } else { quantity = 0 }
            }
        }
        if OrderPathModelSettings.settleModifies { try await settleRequests(of: id) }
        moonwire.runner.modify(id: id, quantity: quantity, limit: limit, stop: nil)
        if OrderPathModelSettings.settleModifies { try await settleRequests(of: id) }
        note("modify\(valid ? "" : " (invalid)") order \(id) [\(order.status) \(order.filled)/\(order.quantity) @\(order.limit ?? 0)] "
             + "quantity \(quantity.map { "\($0)" } ?? "-") limit \(limit.map { "\($0)" } ?? "-")")
        count(valid ? "modifies" : "invalid modifies")
        if !order.isWorking { count("modifies of done orders") }
    }

    /// Waits until the runner has handed over what it holds and no modify or cancel of order
    /// `id` waits for its answer (`MOONWIRE_MODEL_SETTLE_MODIFIES=1`: no modification races a
    /// cancel or a fill of its order, which steps around the issue `OrderPathModelCheck` tags
    /// as a refused modification kept, to look for others).
    private func settleRequests(of id: Int) async throws {
        let runner = moonwire.runner
        let state = moonwire.state
        _ = await boundedWait(5) { (finish: @escaping @Sendable (Bool?) -> Void) in runner.commands.yield(.barrier { finish(true) }) }
        try await eventually("the requests of order \(id) answered", timeout: 10) {
            try await state.loop.submit { state.requestsInFlight[id] == nil }.get()
        }
    }

    private func cancel() {
        guard !placed.isEmpty else { return }
        let id = random.pick(placed)
        moonwire.runner.cancel(id: id)
        note("cancel order \(id)")
        count("cancels")
    }

    /// The price jumps (within 4 % of where it started): resting orders cross and fill.
    private func movePrice() async throws {
        let symbol = random.pick(Self.symbols)
        let price = Self.cents((startPrices[symbol] ?? 100) * (1 + 0.08 * (random.unit() - 0.5)))
        try await control("price \(symbol) \(price)")
    }
}
