import Foundation
import TWSProtocol
import Logging
import Yams

/// The sections of Config/moonwire.yaml that `moonwire run` reads (the paper gateway reads
/// its own). Every key is optional; a misspelt key or a bad value is an error naming it.
public struct HostConfig: Sendable, Equatable {
    public var trading = Trading()
    public var risk = RiskLimits()
    /// Limits across every strategy of the run (`account_risk:`).
    public var accountRisk = AccountLimits()
    /// The market's clock when it is not the wall clock (a replay); nil: the wall clock. Set
    /// by the runtime, not the config file.
    public var marketClock: MarketClock?
    /// Log files (`logging:`).
    public var logging = LogSettings()
    /// The strategies `moonwire run` starts when the command line names none (`strategies:`).
    public var strategies: [StrategyEntry] = []

    /// One entry of `strategies:`: a file, the name it runs under (default: the file's), its
    /// parameters, and its own risk limits (default: `risk:`).
    public struct StrategyEntry: Sendable, Equatable {
        public var file: String
        public var name: String?
        public var params: [String: String] = [:]
        public var risk: RiskLimits?
        public init(file: String) { self.file = file }
    }
    public var strategy = StrategyLimits()
    /// Default strategy parameters (`params` in Lua); `--param key=value` overrides them.
    public var params: [String: String] = [:]
    /// Where `history` and `backtest` keep bars (`history.store`): a SQLite file, or
    /// `postgres://user:password@host:port/database`. Nil: bars.sqlite in the data folder.
    public var historyStore: String?
    /// What `moonwire serve` keeps current in the bar store (`history.ingest`).
    public var historyIngest: HistoryIngest?

    public struct Trading: Sendable, Equatable {
        /// Live trading needs this AND `--live`.
        public var allowLive = false
        public var clientId = 1
        /// The SQLite journal (orders, fills, store...), in the data folder unless configured.
        /// One journal serves every account: it keeps each account's records apart.
        public var journal = HostConfig.dataFolder + "/journal.sqlite"
        /// Keep strategies from starting while a position cannot be explained.
        public var failClosed = true
        public init() {}
    }

    public struct StrategyLimits: Sendable, Equatable {
        /// Milliseconds a handler may run before it is stopped.
        public var budgetMs = 50.0
        /// Memory a strategy's Lua state may use.
        public var memoryMB = 64
        /// Consecutive failing handlers after which the strategy is paused.
        public var maxConsecutiveErrors = 5
        /// Milliseconds after which a handler that still has not returned (stuck where the
        /// budget cannot reach, e.g. in a C function) is declared hung: the strategy is cut
        /// off from the order flow and its open orders are cancelled.
        public var hardLimitMs = 2000.0
        public var hangSeconds: Double { hardLimitMs / 1000 }
        /// How long stopping waits for a strategy's loop (to run on_stop) before leaving it.
        public var stopGraceSeconds: Double { min(hangSeconds, 2) + 0.5 }
        /// Tests only (never from the config file; `moonwire run` sets it when
        /// MOONWIRE_TEST_API=1): `testing.block_in_c(seconds)`, a C function no hook can stop.
        public var testAPI = false
        /// Strategies whose journaled `store` is to be dropped, deliberately (`--reset-store`):
        /// a store that cannot be read otherwise stops the strategy from loading.
        public var resetStore: Set<String> = []
        public init() {}
    }

    public init() {}

    static let known: [String: [String]] = [
        "trading": ["allow_live", "client_id", "journal", "fail_closed"],
        "risk": ["max_order_quantity", "max_order_notional", "max_position", "max_position_notional", "max_open_orders",
                 "max_orders_per_minute", "allowed_symbols", "max_daily_loss", "read_only"],
        "strategy": ["budget_ms", "memory_mb", "max_consecutive_errors", "hard_limit_ms"],
        "account_risk": ["max_position", "max_open_orders", "max_orders_per_minute"],
        "logging": ["folder", "max_mb", "keep_days", "level", "format"],
        "history": ["store", "ingest"],
    ]

    public static func load(path: String) throws -> HostConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw HostConfigError(message: "\(path): cannot read the config file")
        }
        return try load(yaml: String(decoding: data, as: UTF8.self), source: path)
    }

    public static func load(yaml text: String, source: String) throws -> HostConfig {
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch {
            throw HostConfigError(message: "\(source): not valid YAML: \(error)")
        }
        guard let document = root as? [String: Any] ?? (root == nil ? [:] : nil) else {
            throw HostConfigError(message: "\(source): the top level must be a mapping of sections")
        }
        var config = HostConfig()
        func section(_ name: String) throws -> [String: Any] {
            guard let value = document[name] else { return [:] }
            guard let mapping = value as? [String: Any] else { throw HostConfigError(message: "\(source): \(name) must be a mapping") }
            for key in mapping.keys.sorted() where !(known[name] ?? []).contains(key) {
                throw HostConfigError(message: "\(source): \(name).\(key) is not a setting (known: \((known[name] ?? []).joined(separator: ", ")))")
            }
            return mapping
        }
        func number(_ mapping: [String: Any], _ section: String, _ key: String) throws -> Double? {
            guard let value = mapping[key] else { return nil }
            if let number = value as? Int { return Double(number) }
            if let number = value as? Double {
                // YAML's .nan and .inf are numbers too; no setting means anything with them.
                guard number.isFinite else { throw HostConfigError(message: "\(source): \(section).\(key) must be a finite number, got \(number)") }
                return number
            }
            throw HostConfigError(message: "\(source): \(section).\(key) should be a number, got '\(value)'")
        }
        /// A whole number in `range` (checked before it becomes an Int: `Int(1e300)` traps).
        func integer(_ mapping: [String: Any], _ section: String, _ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let value = try number(mapping, section, key) else { return nil }
            guard value.rounded() == value, value >= Double(range.lowerBound), value <= Double(range.upperBound) else {
                throw HostConfigError(message: "\(source): \(section).\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound), got \(value)")
            }
            return Int(value)
        }
        /// A quantity limit: one number for every instrument type, or a mapping by type
        /// (`{ STK: 1000, FUT: 10, CASH: 1000000 }`) over `base` (types it does not name keep
        /// theirs). A type Moonwire does not trade is refused by name.
        func typeLimits(_ mapping: [String: Any], _ section: String, _ key: String, over base: TypeLimits) throws -> TypeLimits {
            guard let value = mapping[key] else { return base }
            guard let byType = value as? [AnyHashable: Any] else {
                guard value is Int || value is Double else {
                    throw HostConfigError(message: "\(source): \(section).\(key) should be a number, or a mapping by instrument type "
                                              + "({ STK: 1000, FUT: 10, OPT: 100, CASH: 1000000 }), got '\(value)'")
                }
                return TypeLimits(try number(mapping, section, key) ?? 0)
            }
            var limits = base
            var named: Set<String> = []
            for (name, amount) in byType.map({ ("\($0.key)", $0.value) }).sorted(by: { $0.0 < $1.0 }) {
                let type = name.uppercased()
                guard TypeLimits.types.contains(type) else {
                    throw HostConfigError(message: "\(source): \(section).\(key).\(name) is not an instrument type (known: \(TypeLimits.types.joined(separator: ", ")))")
                }
                guard named.insert(type).inserted else { throw HostConfigError(message: "\(source): \(section).\(key) names \(type) twice") }
                limits[type] = try number([name: amount], "\(section).\(key)", name) ?? 0
            }
            return limits
        }
        func flag(_ mapping: [String: Any], _ section: String, _ key: String) throws -> Bool? {
            guard let value = mapping[key] else { return nil }
            guard let flag = value as? Bool else { throw HostConfigError(message: "\(source): \(section).\(key) should be true or false, got '\(value)'") }
            return flag
        }
        let trading = try section("trading")
        config.trading.allowLive = try flag(trading, "trading", "allow_live") ?? false
        config.trading.failClosed = try flag(trading, "trading", "fail_closed") ?? true
        if let id = try integer(trading, "trading", "client_id", Self.clientIds) { config.trading.clientId = id }
        if let journal = trading["journal"] {
            guard let path = journal as? String, !path.isEmpty else { throw HostConfigError(message: "\(source): trading.journal should be a file path") }
            config.trading.journal = Self.expandingHome(path)
        }
        /// The `risk:` keys of `mapping` (named `prefix` in errors) over `base`.
        func riskLimits(_ mapping: [String: Any], _ prefix: String, over base: RiskLimits) throws -> RiskLimits {
            var limits = base
            for key in mapping.keys.sorted() where !(known["risk"] ?? []).contains(key) {
                throw HostConfigError(message: "\(source): \(prefix).\(key) is not a setting (known: \((known["risk"] ?? []).joined(separator: ", ")))")
            }
            limits.maxOrderQuantity = try typeLimits(mapping, prefix, "max_order_quantity", over: limits.maxOrderQuantity)
            limits.maxOrderNotional = try number(mapping, prefix, "max_order_notional") ?? limits.maxOrderNotional
            limits.maxPosition = try typeLimits(mapping, prefix, "max_position", over: limits.maxPosition)
            limits.maxPositionNotional = try number(mapping, prefix, "max_position_notional") ?? limits.maxPositionNotional
            if let value = try integer(mapping, prefix, "max_open_orders", Self.counts) { limits.maxOpenOrders = value }
            if let value = try integer(mapping, prefix, "max_orders_per_minute", Self.counts) { limits.maxOrdersPerMinute = value }
            limits.maxDailyLoss = try number(mapping, prefix, "max_daily_loss") ?? limits.maxDailyLoss
            limits.readOnly = try flag(mapping, prefix, "read_only") ?? limits.readOnly
            if let symbols = mapping["allowed_symbols"] {
                guard let list = symbols as? [String] else { throw HostConfigError(message: "\(source): \(prefix).allowed_symbols should be a list of symbols") }
                limits.allowedSymbols = Set(list.map { $0.uppercased() })
            }
            return limits
        }
        config.risk = try riskLimits(try section("risk"), "risk", over: config.risk)
        if let list = document["strategies"] {
            guard let entries = list as? [Any] else { throw HostConfigError(message: "\(source): strategies must be a list of { file:, name:, params:, risk: }") }
            for (index, item) in entries.enumerated() {
                let prefix = "strategies[\(index)]"
                guard let entry = item as? [String: Any] else { throw HostConfigError(message: "\(source): \(prefix) must be a mapping") }
                for key in entry.keys.sorted() where !["file", "name", "params", "risk"].contains(key) {
                    throw HostConfigError(message: "\(source): \(prefix).\(key) is not a setting (known: file, name, params, risk)")
                }
                guard let file = entry["file"] as? String, !file.isEmpty else { throw HostConfigError(message: "\(source): \(prefix).file is required") }
                var strategy = StrategyEntry(file: file)
                if let name = entry["name"] {
                    guard let text = name as? String, !text.isEmpty else { throw HostConfigError(message: "\(source): \(prefix).name should be a name") }
                    strategy.name = text
                }
                if let params = entry["params"] {
                    guard let mapping = params as? [String: Any] else { throw HostConfigError(message: "\(source): \(prefix).params must be a mapping") }
                    for (key, value) in mapping { strategy.params[key] = "\(value)" }
                }
                if let risk = entry["risk"] {
                    guard let mapping = risk as? [String: Any] else { throw HostConfigError(message: "\(source): \(prefix).risk must be a mapping") }
                    strategy.risk = try riskLimits(mapping, prefix + ".risk", over: config.risk)
                }
                config.strategies.append(strategy)
            }
        }
        let logging = try section("logging")
        if let folder = logging["folder"] {
            guard let path = folder as? String, !path.isEmpty else { throw HostConfigError(message: "\(source): logging.folder should be a folder path") }
            config.logging.folder = Self.expandingHome(path)
        }
        config.logging.maxMegabytes = try number(logging, "logging", "max_mb") ?? config.logging.maxMegabytes
        config.logging.keepDays = try number(logging, "logging", "keep_days") ?? config.logging.keepDays
        if let level = logging["level"] {
            guard let name = level as? String, let parsed = Logger.Level(rawValue: name) else {
                throw HostConfigError(message: "\(source): logging.level '\(level)' is not trace, debug, info, notice, warning, error or critical")
            }
            config.logging.level = parsed
        }
        if let format = logging["format"] {
            guard let name = format as? String, name == "text" || name == "json" else {
                throw HostConfigError(message: "\(source): logging.format '\(format)' is not 'text' or 'json'")
            }
            config.logging.format = name
        }
        let account = try section("account_risk")
        config.accountRisk.maxPosition = try typeLimits(account, "account_risk", "max_position", over: config.accountRisk.maxPosition)
        if let value = try integer(account, "account_risk", "max_open_orders", Self.counts) { config.accountRisk.maxOpenOrders = value }
        if let value = try integer(account, "account_risk", "max_orders_per_minute", Self.counts) { config.accountRisk.maxOrdersPerMinute = value }
        let strategy = try section("strategy")
        config.strategy.budgetMs = try number(strategy, "strategy", "budget_ms") ?? config.strategy.budgetMs
        if let value = try integer(strategy, "strategy", "memory_mb", 1...65_536) { config.strategy.memoryMB = value }
        if let value = try integer(strategy, "strategy", "max_consecutive_errors", Self.counts) { config.strategy.maxConsecutiveErrors = value }
        config.strategy.hardLimitMs = try number(strategy, "strategy", "hard_limit_ms") ?? config.strategy.hardLimitMs
        if let store = try section("history")["store"] {
            guard let text = store as? String, !text.isEmpty else {
                throw HostConfigError(message: "\(source): history.store should be a SQLite file path or a postgres:// URL")
            }
            config.historyStore = Self.expandingHome(text)
        }
        if let ingest = try section("history")["ingest"] { config.historyIngest = try HistoryIngest.parse(ingest, source: source) }
        if let params = document["params"] {
            guard let mapping = params as? [String: Any] else { throw HostConfigError(message: "\(source): params must be a mapping") }
            for (key, value) in mapping { config.params[key] = "\(value)" }
        }
        try config.validate(source: source)
        return config
    }

    /// TWS keeps client ids in a Java int.
    static let clientIds = 0...Int(Int32.max)
    /// Order counts and the like.
    static let counts = 1...1_000_000

    func validate(source: String) throws {
        func bad(_ key: String, _ why: String) -> HostConfigError { HostConfigError(message: "\(source): \(key): \(why)") }
        /// Positive, finite and at most `limit` (a limit of 1e300 is no limit but a typo, and
        /// sums and products of such values stop meaning anything).
        func positive(_ value: Double, _ key: String, atMost limit: Double) throws {
            guard value.isFinite, value > 0, value <= limit else { throw bad(key, "must be positive and at most \(Int64(limit)), got \(value)") }
        }
        /// Each type's limit (named `key.TYPE` when the types differ).
        func positive(_ limits: TypeLimits, _ key: String, atMost limit: Double) throws {
            let uniform = Set(limits.values.values).count == 1
            for type in TypeLimits.types { try positive(limits[type], uniform ? key : key + "." + type, atMost: limit) }
        }
        for (prefix, limits) in [("risk", risk)] + strategies.enumerated().compactMap({ index, entry in
            entry.risk.map { ("strategies[\(index)].risk", $0) }
        }) {
            try positive(limits.maxOrderQuantity, prefix + ".max_order_quantity", atMost: 1e12)
            try positive(limits.maxOrderNotional, prefix + ".max_order_notional", atMost: 1e15)
            try positive(limits.maxPosition, prefix + ".max_position", atMost: 1e12)
            if let value = limits.maxPositionNotional { try positive(value, prefix + ".max_position_notional", atMost: 1e15) }
            try positive(limits.maxDailyLoss, prefix + ".max_daily_loss", atMost: 1e15)
            guard Self.counts.contains(limits.maxOpenOrders) else { throw bad(prefix + ".max_open_orders", "must be 1 to \(Self.counts.upperBound)") }
            guard Self.counts.contains(limits.maxOrdersPerMinute) else { throw bad(prefix + ".max_orders_per_minute", "must be 1 to \(Self.counts.upperBound)") }
        }
        try positive(logging.maxMegabytes, "logging.max_mb", atMost: 1_000_000)
        try positive(logging.keepDays, "logging.keep_days", atMost: 36_500)
        try positive(accountRisk.maxPosition, "account_risk.max_position", atMost: 1e12)
        guard Self.counts.contains(accountRisk.maxOpenOrders) else { throw bad("account_risk.max_open_orders", "must be 1 to \(Self.counts.upperBound)") }
        guard Self.counts.contains(accountRisk.maxOrdersPerMinute) else {
            throw bad("account_risk.max_orders_per_minute", "must be 1 to \(Self.counts.upperBound)")
        }
        try positive(strategy.budgetMs, "strategy.budget_ms", atMost: 3_600_000)
        guard strategy.memoryMB >= 1 else { throw bad("strategy.memory_mb", "must be at least 1") }
        guard strategy.hardLimitMs.isFinite, strategy.hardLimitMs >= strategy.budgetMs * 2, strategy.hardLimitMs <= 86_400_000 else {
            throw bad("strategy.hard_limit_ms", "must be at least twice strategy.budget_ms and at most 86400000 (a day)")
        }
        guard strategy.maxConsecutiveErrors >= 1 else { throw bad("strategy.max_consecutive_errors", "must be at least 1") }
        guard Self.clientIds.contains(trading.clientId) else { throw bad("trading.client_id", "must be 0 to \(Self.clientIds.upperBound)") }
    }
}

public struct HostConfigError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
}

extension HostConfig {
    /// Where Moonwire keeps its data when the config does not say: `$MOONWIRE_DATA`, else
    /// `$XDG_DATA_HOME/moonwire`, else `~/.local/share/moonwire`; never the current folder.
    public static var dataFolder: String {
        let environment = ProcessInfo.processInfo.environment
        if let folder = environment["MOONWIRE_DATA"], !folder.isEmpty { return folder }
        if let folder = environment["XDG_DATA_HOME"], !folder.isEmpty { return folder + "/moonwire" }
        return homeFolder() + "/.local/share/moonwire"
    }

    /// The user's home: `$HOME` as the shell has it (`HOME=/elsewhere moonwire ...`, a service
    /// manager's setting), else the account's home from the password database. Foundation's
    /// `homeDirectoryForCurrentUser` reads only the latter on Linux.
    public static func homeFolder(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let home = environment["HOME"], !home.isEmpty { return home }
        return FileManager.default.homeDirectoryForCurrentUser.path
    }

    /// `path` with a leading `~/` as the user's home (`homeFolder`), as a shell would.
    static func expandingHome(_ path: String) -> String {
        path.hasPrefix("~/") ? homeFolder() + path.dropFirst() : path
    }

    /// Creates the folder a data file goes in.
    public static func prepareFolder(of path: String) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw HostConfigError(message: "cannot create the folder \(folder.path) for \(path): \(error.localizedDescription)")
        }
    }
}

extension HostConfig {
    /// The config file a command uses, and why: `--config`, else `$MOONWIRE_CONFIG`, else
    /// `./Config/moonwire.yaml`, else `moonwire.yaml` in the user's config folder
    /// (`$XDG_CONFIG_HOME/moonwire`, else `~/.config/moonwire`); nil path when there is none.
    /// A file named by the flag or the variable must exist.
    public static func findConfig(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                                  workingFolder: String = FileManager.default.currentDirectoryPath) throws -> (path: String?, source: String)
    {
        let files = FileManager.default
        if let flag {
            guard files.fileExists(atPath: flag) else { throw HostConfigError(message: "--config \(flag): no such file") }
            return (flag, "--config")
        }
        if let named = environment["MOONWIRE_CONFIG"], !named.isEmpty {
            guard files.fileExists(atPath: named) else { throw HostConfigError(message: "MOONWIRE_CONFIG=\(named): no such file") }
            return (named, "MOONWIRE_CONFIG")
        }
        let local = workingFolder + "/Config/moonwire.yaml"
        if files.fileExists(atPath: local) { return ("Config/moonwire.yaml", "the working folder") }
        let home = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (homeFolder(environment: environment) + "/.config")
        let user = home + "/moonwire/moonwire.yaml"
        if files.fileExists(atPath: user) { return (user, "the user's config folder") }
        return (nil, "none found: defaults")
    }
}
