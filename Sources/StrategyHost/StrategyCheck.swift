import Foundation
import LuaRuntime
import NIOPosix
import TWSClient
import TWSProtocol

/// What `moonwire check` finds in a strategy file without connecting anywhere.
public enum StrategyCheck {
    public struct Result: Sendable {
        public var errors: [String] = []
        /// Each warning with the line it is about where the file shows it (`moonwire check`
        /// prints `file:line: ...`; an editor jumps there).
        public var found: [Warning] = []
        /// The handlers the host calls that the file defines (`on_quote`, ...).
        public var handlers: [String] = []
        /// Other global `on_` functions: called only when an application posts that event
        /// (`MoonwireRuntime.post`), never by the host; a misspelled handler lands here.
        public var otherOnFunctions: [String] = []
        /// The warnings' texts, without lines.
        public var warnings: [String] { found.map(\.message) }
    }

    public struct Warning: Sendable, Equatable {
        /// 1-based; nil when no line of the file says it.
        public var line: Int?
        public var message: String
    }

    /// The API a strategy may call, by table.
    public static let api: [String: Set<String>] = [
        "market": ["subscribe", "unsubscribe", "quote", "history", "contract"],
        "orders": ["buy", "sell", "place", "bracket", "modify", "cancel", "cancel_all", "get", "open"],
        "account": ["position", "positions", "account_position", "values", "pnl"],
        "timer": ["after", "every", "cancel"],
        "log": ["info", "warn", "error"],
    ]

    public static func check(path: String) async throws -> Result {
        var result = Result()
        let source: String
        do { source = try Strategy.read(path) } catch { return Result(errors: ["\(error)"]) }
        // Each of these names what does not exist: an error, after the file's own (if any).
        let unknown = unknownCalls(in: source, file: URL(fileURLWithPath: path).lastPathComponent)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let services = NullServices()
        do {
            let strategy = try await group.next().submit {
                try Strategy(path: path, loop: group.next(), services: services, config: HostConfig())
            }.get()
            let defined = try await group.next().submit { strategy.definedHandlers }.get()
            result.handlers = defined.filter(Strategy.handlerNames.contains)
            result.otherOnFunctions = defined.filter { !Strategy.handlerNames.contains($0) }
            // Every global function: `onQuote` is a handler misnamed too, though not spelled on_.
            let functions = try await group.next().submit { strategy.lua.functionNames(strategy.env) }.get()
            let handlers = Strategy.handlerNames
            result.found += functions.compactMap { name in
                HandlerNameSuggestion.warning(for: name, handlers: handlers).map { Warning(line: definitionLine(of: name, in: source), message: $0) }
            }
        } catch let error as LuaError {
            result.errors.append(error.message)
        }
        try? await group.shutdownGracefully()
        result.errors += unknown
        return result
    }

    /// The first line that defines the global function `name` (`function name(`, `function
    /// name (`, `name = function`), outside comments; nil when none does (a table of handlers
    /// filled in a loop, a name built at run time).
    static func definitionLine(of name: String, in source: String) -> Int? {
        let escaped = NSRegularExpression.escapedPattern(for: name)
        guard let pattern = try? NSRegularExpression(pattern: "(^|[^A-Za-z0-9_.:])(function\\s+\(escaped)\\s*\\(|\(escaped)\\s*=\\s*function\\b)")
        else { return nil }
        for (number, line) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let code = line.components(separatedBy: "--").first ?? ""
            if pattern.firstMatch(in: code, range: NSRange(code.startIndex..., in: code)) != nil { return number + 1 }
        }
        return nil
    }

    /// `market.subscribe(` etc. whose name is not in the API.
    static func unknownCalls(in source: String, file: String) -> [String] {
        var problems: [String] = []
        for (number, line) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let code = line.components(separatedBy: "--").first ?? ""
            for (table, names) in api {
                var rest = Substring(code)
                while let range = rest.range(of: table + ".") {
                    let before = rest[..<range.lowerBound].last
                    let name = rest[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                    if before.map({ !($0.isLetter || $0.isNumber || $0 == "_" || $0 == ".") }) ?? true, !name.isEmpty, !names.contains(String(name)) {
                        let guess = names.min { distance($0, String(name)) < distance($1, String(name)) }!
                        problems.append("\(file):\(number + 1): \(table).\(name) does not exist; did you mean \(table).\(guess)? (\(table): \(names.sorted().joined(separator: ", ")))")
                    }
                    rest = rest[range.upperBound...]
                }
            }
        }
        return problems
    }

    /// Levenshtein distance, for "did you mean".
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}

/// Services that go nowhere: for checking a file without a connection.
final class NullServices: StrategyServices, @unchecked Sendable {
    var orderFlowClosed: (code: String, message: String)? { nil }
    func submitNew(contract: Contract, order: Order, strategy: String) throws -> Int { 0 }
    func modify(id: Int, quantity: Double?, limit: Double?, stop: Double?) {}
    func cancel(id: Int) {}
    func subscribe(_ instrument: InstrumentSpec, quotes: Bool, barSize: String?, strategy: Strategy) {}
    func unsubscribe(key: String, strategy: Strategy) {}
    func latestPrice(symbol: String, buy: Bool) -> Double? { nil }
    func snapshotPrice(_ instrument: InstrumentSpec, buy: Bool) async throws -> Double? { nil }
    func history(_ instrument: InstrumentSpec, duration: String, barSize: String, whatToShow: String) async throws -> [Bar] { [] }
    func contract(_ instrument: InstrumentSpec) async throws -> ResolvedInstrument { throw TWSError.notConnected }
    func loadStore(strategy: String) -> Data? { nil }
    func saveStore(strategy: String, data: Data) {}
    func journal(strategy: String, kind: String, detail: String) {}
    func startingPositions(strategy: String) async -> PositionBook { PositionBook() }
    func accountPosition(symbol: String) -> Double { 0 }
    func instrumentStatus(_ key: String) -> InstrumentStatus { .unresolved }
    func resolvedInstrument(_ key: String) -> ResolvedInstrument? { nil }
    func resolveInstrument(_ instrument: InstrumentSpec) async -> InstrumentStatus { .unresolved }
}
