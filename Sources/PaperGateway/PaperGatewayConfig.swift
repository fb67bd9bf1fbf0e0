import Money
import Foundation
import Yams

/// The paper gateway's settings: the `paper_gateway:` section of the config file
/// (Config/moonwire.yaml). Every key is optional; the defaults are what a demo needs.
public struct PaperGatewayConfig: Sendable, Codable, Equatable {
    public var host = "127.0.0.1"
    /// 7497, as TWS paper; tests pass 0 for an ephemeral port.
    public var port = 7497
    /// Seeds the price process: the same seed gives the same market.
    public var seed: UInt64 = 42
    /// The first one is the default account; all must be non-empty. Paper accounts start with D.
    public var accounts = ["DU1234567"]
    public var startingCash = 1_000_000.0
    /// The zone TWS writes times in (execution times, bar dates, the handshake).
    public var timeZone = "US/Eastern"
    /// SQLite file that keeps orders, executions, positions, cash and next ids across restarts.
    public var stateFile: String? = nil
    public var maxClients = 32
    public var market = Market()
    public var fills = Fills()
    public var pacing = Pacing()
    public var instruments: [Instrument] = Instrument.defaultUniverse
    /// Control-port commands run when the gateway starts (e.g. `reject-next`).
    public var faults: [String] = []
    /// A market from stored bars instead of the random walk (`moonwire gateway --replay`);
    /// not a config key: the command line loads the bars.
    public var replay: MarketReplay? = nil

    public struct Market: Sendable, Codable, Equatable {
        /// How often quotes move; IB sends stock quotes about every 250 ms. 0: as fast as the
        /// sockets take (benchmarks): up to 1,000 steps a millisecond while every client keeps up.
        public var tickIntervalMs: Double = 250
        /// false: open around the clock, so a demo works at any hour. true: 09:30–16:00 in
        /// `time_zone`, Monday to Friday; orders without outsideRth wait for the open.
        public var regularHoursOnly = false
        /// `realtime`, or `manual`: quotes move only when told to (control command `step`),
        /// which makes a scenario's fills exactly repeatable.
        public var clock = "realtime"
        /// false: the account has no live market data subscriptions, as a new IB paper account:
        /// a live request gets 354 and no data, a delayed one (type 3/4) gets 10167 and delayed ticks.
        public var liveData = true

        public init() {}
        enum CodingKeys: String, CodingKey {
            case tickIntervalMs = "tick_interval_ms", regularHoursOnly = "regular_hours_only", clock, liveData = "live_data"
        }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            tickIntervalMs = try c.decodeIfPresent(Double.self, forKey: .tickIntervalMs) ?? tickIntervalMs
            regularHoursOnly = try c.decodeIfPresent(Bool.self, forKey: .regularHoursOnly) ?? regularHoursOnly
            clock = try c.decodeIfPresent(String.self, forKey: .clock) ?? clock
            liveData = try c.decodeIfPresent(Bool.self, forKey: .liveData) ?? liveData
        }
    }

    public struct Fills: Sendable, Codable, Equatable {
        /// An order larger than the displayed size fills in parts, one per quote update.
        public var partialFills = true
        /// The commission schedule by name (`ib-fixed`, `ib-tiered`, `none`, `per-unit:AMOUNT`):
        /// the same schedule backtests use.
        public var commissionPlan = "ib-fixed"
        public var commission: CommissionSchedule { CommissionSchedule(parsing: commissionPlan) ?? .ibFixed }
        public init() {}
        enum CodingKeys: String, CodingKey { case partialFills = "partial_fills", commissionPlan = "commission" }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            partialFills = try c.decodeIfPresent(Bool.self, forKey: .partialFills) ?? partialFills
            commissionPlan = try c.decodeIfPresent(String.self, forKey: .commissionPlan) ?? commissionPlan
            guard CommissionSchedule(parsing: commissionPlan) != nil else {
                throw DecodingError.dataCorruptedError(forKey: .commissionPlan, in: c,
                                                       debugDescription: "fills.commission must be ib-fixed, ib-tiered, none or per-unit:AMOUNT, got '\(commissionPlan)'")
            }
        }
    }

    public struct Pacing: Sendable, Codable, Equatable {
        /// IB's historical-data rules: identical within 15 s, 6 per contract in 2 s, 60 per
        /// 10 minutes, 50 open (error 162).
        public var historical = true
        /// More than 50 messages a second from one client: error 100.
        public var messageRate = true
        public var maxMarketDataLines = 100
        /// IB's 10-minute window of the 60-request rule; tests shorten it.
        public var historicalWindowSeconds = 600.0
        public init() {}
        enum CodingKeys: String, CodingKey {
            case historical, messageRate = "message_rate", maxMarketDataLines = "max_market_data_lines"
            case historicalWindowSeconds = "historical_window_seconds"
        }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            historical = try c.decodeIfPresent(Bool.self, forKey: .historical) ?? historical
            messageRate = try c.decodeIfPresent(Bool.self, forKey: .messageRate) ?? messageRate
            maxMarketDataLines = try c.decodeIfPresent(Int.self, forKey: .maxMarketDataLines) ?? maxMarketDataLines
            historicalWindowSeconds = try c.decodeIfPresent(Double.self, forKey: .historicalWindowSeconds) ?? historicalWindowSeconds
        }
    }

    public init() {}

    enum CodingKeys: String, CodingKey {
        case host, port, seed, accounts, startingCash = "starting_cash", timeZone = "time_zone", stateFile = "state_file"
        case maxClients = "max_clients", market, fills, pacing, instruments, faults
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? port
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
        accounts = try c.decodeIfPresent([String].self, forKey: .accounts) ?? accounts
        startingCash = try c.decodeIfPresent(Double.self, forKey: .startingCash) ?? startingCash
        timeZone = try c.decodeIfPresent(String.self, forKey: .timeZone) ?? timeZone
        stateFile = try c.decodeIfPresent(String.self, forKey: .stateFile) ?? stateFile
        maxClients = try c.decodeIfPresent(Int.self, forKey: .maxClients) ?? maxClients
        market = try c.decodeIfPresent(Market.self, forKey: .market) ?? market
        fills = try c.decodeIfPresent(Fills.self, forKey: .fills) ?? fills
        pacing = try c.decodeIfPresent(Pacing.self, forKey: .pacing) ?? pacing
        instruments = try c.decodeIfPresent([Instrument].self, forKey: .instruments) ?? instruments
        faults = try c.decodeIfPresent([String].self, forKey: .faults) ?? faults
    }

    /// The most starting cash a paper account may have.
    public static let maxMoney = 1e12

    /// Checks what decoding cannot: values out of range. Throws naming the key.
    public func validate() throws {
        func bad(_ key: String, _ why: String) -> ConfigError { ConfigError(message: "paper_gateway.\(key): \(why)") }
        guard (0...65535).contains(port) else { throw bad("port", "\(port) is not a TCP port (0-65535)") }
        guard !accounts.isEmpty, accounts.allSatisfy({ !$0.isEmpty }) else {
            throw bad("accounts", "needs at least one non-empty account id")
        }
        // Finite and bounded: NaN passes a `>= 0` test, and infinity or 1e300 would make every
        // account value and PnL the gateway reports nonsense (or trap where it becomes an integer).
        guard startingCash.isFinite, (0...Self.maxMoney).contains(startingCash) else {
            throw bad("starting_cash", "must be 0 to \(Int(Self.maxMoney)), got \(startingCash)")
        }
        guard TimeZone(identifier: timeZone) != nil else { throw bad("time_zone", "'\(timeZone)' is not a known time zone") }
        guard (1...32).contains(maxClients) else { throw bad("max_clients", "must be 1-32 (TWS allows 32)") }
        guard market.tickIntervalMs.isFinite, (0...3_600_000).contains(market.tickIntervalMs) else {
            throw bad("market.tick_interval_ms", "must be 0 to 3600000 (an hour), got \(market.tickIntervalMs)")
        }
        guard (1...1_000_000).contains(pacing.maxMarketDataLines) else {
            throw bad("pacing.max_market_data_lines", "must be 1 to 1000000, got \(pacing.maxMarketDataLines)")
        }
        guard pacing.historicalWindowSeconds.isFinite, (0...86_400).contains(pacing.historicalWindowSeconds) else {
            throw bad("pacing.historical_window_seconds", "must be 0 to 86400, got \(pacing.historicalWindowSeconds)")
        }
        guard ["realtime", "manual"].contains(market.clock) else {
            throw bad("market.clock", "'\(market.clock)' is not 'realtime' or 'manual'")
        }
        guard !instruments.isEmpty else { throw bad("instruments", "the universe is empty") }
        var symbols = Set<String>()
        var ids = Set<Int>()
        for (index, instrument) in instruments.enumerated() {
            let key = "instruments[\(index)] (\(instrument.symbol))"
            guard symbols.insert(instrument.symbol).inserted else { throw bad(key, "symbol appears twice") }
            guard ids.insert(instrument.conId).inserted else { throw bad(key, "con_id \(instrument.conId) appears twice") }
            // IB's con ids, sizes and prices are Java ints and doubles of sane size; past these
            // bounds quotes, sizes and fills overflow or stop meaning anything.
            guard (1...Int(Int32.max)).contains(instrument.conId) else {
                throw bad(key + ".con_id", "must be 1 to \(Int32.max), got \(instrument.conId)")
            }
            guard instrument.startPrice.isFinite, instrument.startPrice > 0, instrument.startPrice <= PaperOrder.maxPrice else {
                throw bad(key + ".start_price", "must be positive and at most \(Int(PaperOrder.maxPrice)), got \(instrument.startPrice)")
            }
            guard instrument.tickSize.isFinite, instrument.tickSize > 0, instrument.tickSize <= instrument.startPrice else {
                throw bad(key + ".tick_size", "must be positive and at most the start price, got \(instrument.tickSize)")
            }
            guard instrument.volatility >= 0 && instrument.volatility < 5 else { throw bad(key + ".volatility", "must be 0-5") }
            guard (1...1_000_000).contains(instrument.lot) else { throw bad(key + ".lot", "must be 1 to 1000000, got \(instrument.lot)") }
            guard instrument.multiplier.isFinite, instrument.multiplier > 0, instrument.multiplier <= 1_000_000 else {
                throw bad(key + ".multiplier", "must be positive and at most 1000000, got \(instrument.multiplier)")
            }
            if let strike = instrument.strike, !(strike.isFinite && strike >= 0 && strike <= PaperOrder.maxPrice) {
                throw bad(key + ".strike", "must be 0 to \(Int(PaperOrder.maxPrice)), got \(strike)")
            }
        }
    }

    /// Reads the `paper_gateway:` section of a YAML config file (other sections are for other
    /// parts of Moonwire). A missing section gives the defaults.
    public static func load(yaml text: String, source: String) throws -> PaperGatewayConfig {
        let root: Any?
        do {
            root = try Yams.load(yaml: text)
        } catch {
            throw ConfigError(message: "\(source): not valid YAML: \(error)")
        }
        guard let document = root as? [String: Any] ?? (root == nil ? [:] : nil) else {
            throw ConfigError(message: "\(source): the top level must be a mapping of sections")
        }
        guard let section = document["paper_gateway"] else { return PaperGatewayConfig() }
        if let mapping = section as? [String: Any] {
            try checkKeys(mapping, known: CodingKeys.allNames, path: "paper_gateway", source: source)
            let nested: [String: [String]] = [
                "market": ["tick_interval_ms", "regular_hours_only", "clock", "live_data"],
                "fills": ["partial_fills", "commission"],
                "pacing": ["historical", "message_rate", "max_market_data_lines", "historical_window_seconds"],
            ]
            for (section, keys) in nested {
                if let inner = mapping[section] as? [String: Any] {
                    try checkKeys(inner, known: keys, path: "paper_gateway.\(section)", source: source)
                }
            }
        }
        do {
            let sectionText = try Yams.dump(object: section)
            let config = try YAMLDecoder().decode(PaperGatewayConfig.self, from: sectionText)
            try config.validate()
            return config
        } catch let error as ConfigError {
            throw ConfigError(message: "\(source): \(error.message)")
        } catch let DecodingError.typeMismatch(type, context), let DecodingError.valueNotFound(type, context) {
            throw ConfigError(message: "\(source): paper_gateway.\(context.codingPath.dottedPath) should be of type \(type)")
        } catch let DecodingError.keyNotFound(key, context) {
            throw ConfigError(message: "\(source): paper_gateway.\((context.codingPath + [key]).dottedPath) is required")
        } catch let DecodingError.dataCorrupted(context) {
            throw ConfigError(message: "\(source): paper_gateway.\(context.codingPath.dottedPath): \(context.debugDescription)")
        }
    }

    /// A misspelt key is an error, not a silently ignored setting.
    private static func checkKeys(_ mapping: [String: Any], known: [String], path: String, source: String) throws {
        for key in mapping.keys.sorted() where !known.contains(key) {
            throw ConfigError(message: "\(source): \(path).\(key) is not a setting (known: \(known.sorted().joined(separator: ", ")))")
        }
    }

    public static func load(path: String) throws -> PaperGatewayConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(message: "\(path): cannot read the config file")
        }
        return try load(yaml: String(decoding: data, as: UTF8.self), source: path)
    }
}

extension PaperGatewayConfig.CodingKeys: CaseIterable {
    static var allNames: [String] { allCases.map(\.stringValue) }
}

/// A config problem, with the file and key it is about.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
}

extension [CodingKey] {
    var dottedPath: String {
        map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }
}
