import Foundation
import TradingState
import TWSClient

/// The orders a halt acted on, named: the run's answer counts them by id (`cancelled: 2 (ids
/// 3-4)`), and a trader wants to see WHICH orders those were, not only how many. Their terms
/// come from the run's journal, read as `moonwire state` reads it (nothing connects).
enum HaltedOrders {
    /// What each line of the answer that lists ids says happened to them.
    static let outcomes: [(prefix: String, said: String)] = [
        ("  cancelled: ", "cancelled"),
        ("  stopped before reaching TWS: ", "stopped before reaching TWS"),
        ("  filled before the cancel: ", "filled before the cancel"),
    ]

    /// Order ids by what happened to them, from a halt's answer (`ids 3-5, 9` is 3, 4, 5, 9).
    static func ids(in reply: String) -> [(id: Int, said: String)] {
        var found: [(id: Int, said: String)] = []
        for line in reply.split(separator: "\n").map(String.init) {
            guard let outcome = outcomes.first(where: { line.hasPrefix($0.prefix) }),
                  let open = line.range(of: "(ids "), let close = line.range(of: ")", range: open.upperBound..<line.endIndex)
            else { continue }
            for part in line[open.upperBound..<close.lowerBound].split(separator: ",") {
                let bounds = part.trimmingCharacters(in: .whitespaces).split(separator: "-").compactMap { Int($0) }
                guard let first = bounds.first, let last = bounds.last, first <= last, last - first < 10_000 else { continue }
                for id in first...last { found.append((id, outcome.said)) }
            }
        }
        return found
    }

    /// `order 3 of hello: BUY 100 AAPL LMT 1.00, cancelled` for each order the answer names,
    /// from the journal's most recently active scope (the run's); empty when the journal
    /// cannot be read (the counts above still stand).
    static func lines(for reply: String, journal path: String) async -> [String] {
        let named = ids(in: reply)
        guard !named.isEmpty, FileManager.default.fileExists(atPath: path), let store = try? Journal(path: path) else { return [] }
        defer { store.close() }
        guard let scope = try? store.scopes().first?.scope else { return [] }
        var configuration = TWSClientConfiguration(host: "127.0.0.1", port: 1, clientId: 0)
        configuration.requestTimeout = 1
        let client = TWSClient(configuration: configuration)  // never started: nothing connects
        let state = try? TradingState(client: client, journal: store)
        let snapshot = try? await state?.journaledSnapshot(scope: scope)
        await client.stop()
        guard let snapshot else { return [] }
        let orders = Dictionary(snapshot.orders.map { ($0.orderId, $0) }, uniquingKeysWith: { first, _ in first })
        return named.map { id, said in
            guard let order = orders[id] else { return "  order \(id): \(said) (not in the journal's \(scope))" }
            let price = (order.order.lmtPrice ?? order.order.auxPrice).map { " " + StateTables.price($0) } ?? ""
            let terms = "\(order.order.action) \(StateTables.quantity(order.quantity)) \(order.instrumentKey) \(order.order.orderType)\(price)"
            return "  order \(id)" + (order.strategy.isEmpty ? "" : " of \(order.strategy)") + ": \(terms), \(said)"
        }
    }
}
