import Foundation
import Metrics
import Moonwire
import NIOConcurrencyHelpers
import Prometheus
import StrategyHost
import TradingState

/// `GET /metrics`: swift-metrics handlers backed by swift-prometheus's registry. Counts the
/// runtime keeps as totals (each strategy's quotes, orders, fills) are brought up to date when
/// scraped; what happens at one moment (an order ending, a first fill) is counted as it comes.
final class ServeMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let lastTotals = NIOLockedValueBox<[String: Int]>([:])
    /// Orders already counted as ended, and those with a first fill timed (bounded).
    private let seen = NIOLockedValueBox<(ended: Set<Int>, filled: Set<Int>)>(([], []))
    // Made after the bootstrap (in `init`): made before, they would count into the no-op.
    private let fillTimer: Metrics.Timer
    private let reconnections: Metrics.Counter

    private static let bootstrapped = NIOLockedValueBox<PrometheusCollectorRegistry?>(nil)

    /// The process's registry; swift-metrics is bootstrapped with it the first time (once per
    /// process, before any strategy makes its handler timer).
    static func bootstrap() -> PrometheusCollectorRegistry {
        bootstrapped.withLockedValue { registry in
            if let registry { return registry }
            let made = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: made)
            factory.defaultDurationHistogramBuckets = [
                .microseconds(10), .microseconds(50), .microseconds(100), .microseconds(500), .milliseconds(1), .milliseconds(5),
                .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(30),
            ]
            MetricsSystem.bootstrap(factory)
            registry = made
            return made
        }
    }

    init() {
        registry = Self.bootstrap()
        fillTimer = Metrics.Timer(label: "moonwire_order_fill_seconds")
        reconnections = Metrics.Counter(label: "moonwire_reconnections_total")
        reconnections.increment(by: 0)  // present (at 0) from the first scrape
    }

    /// Counts what happens now (from the runtime's events).
    func note(_ event: MoonwireEvent) {
        switch event {
        case let .trading(.order(record)) where !record.strategy.isEmpty:
            let result: String? = switch record.status {
            case .filled: "filled"
            case .cancelled: "cancelled"
            case .rejected: "rejected"
            default: nil
            }
            guard let result else { return }
            let first = seen.withLockedValue { seen in
                if seen.ended.count > 50_000 { seen.ended.removeAll() }
                return seen.ended.insert(record.orderId).inserted
            }
            if first { Metrics.Counter(label: "moonwire_orders_total", dimensions: [("strategy", record.strategy), ("result", result)]).increment() }
            if record.filled > 0 {
                let first = seen.withLockedValue { seen in
                    if seen.filled.count > 50_000 { seen.filled.removeAll() }
                    return seen.filled.insert(record.orderId).inserted
                }
                let seconds = Date().timeIntervalSince1970 - record.createdAt
                if first, seconds.isFinite, seconds >= 0, seconds < 86_400 { fillTimer.recordNanoseconds(Int64(seconds * 1e9)) }
            }
        case .connection("restored"):
            reconnections.increment()
        default:
            break
        }
    }

    /// The registry's text after bringing every gauge and total up to now.
    func scrape(_ model: ServeModel) async -> String {
        let runtime = model.runtime
        let live = await runtime.liveStatus()
        let kept = model.snapshotOfKept
        Gauge(label: "moonwire_connection_up").record(kept.connectedSince == nil ? 0 : 1)
        Gauge(label: "moonwire_connection_uptime_seconds").record(kept.connectedSince.map { Date().timeIntervalSince($0) } ?? 0)
        Gauge(label: "moonwire_subscriptions").record(live.instruments)
        Gauge(label: "moonwire_open_orders").record(live.openOrders)
        Gauge(label: "moonwire_positions").record(live.positions)
        Gauge(label: "moonwire_daily_pnl").record(kept.pnl.daily ?? 0)
        Gauge(label: "moonwire_trading_closed").record(runtime.orderFlowClosed == nil ? 0 : 1)
        Gauge(label: "moonwire_strategies").record(runtime.strategyNames.count)
        Gauge(label: "moonwire_event_stream_clients").record(model.fanOut.clientCount)
        Gauge(label: "moonwire_uptime_seconds").record(Date().timeIntervalSince(runtime.startedAt))
        if let age = runtime.secondsSinceLastMessage { Gauge(label: "moonwire_last_message_age_seconds").record(age) }
        for (name, waiting) in runtime.waitingEvents {
            Gauge(label: "moonwire_strategy_queue_length", dimensions: [("strategy", name)]).record(waiting)
        }
        if let resident = Self.residentBytes() { Gauge(label: "moonwire_resident_memory_bytes").record(resident) }
        for (name, statistics) in await runtime.statistics() {
            let totals: [(String, [(String, String)], Int)] = [
                ("moonwire_quotes_total", [("strategy", name)], statistics.quotesDelivered),
                ("moonwire_quotes_coalesced_total", [("strategy", name)], statistics.quotesCoalesced),
                ("moonwire_orders_total", [("strategy", name), ("result", "placed")], statistics.ordersPlaced),
                ("moonwire_orders_total", [("strategy", name), ("result", "refused")], statistics.ordersRefused),
                ("moonwire_fills_total", [("strategy", name)], statistics.fills),
                ("moonwire_handler_failures_total", [("strategy", name)], statistics.handlerFailures),
                ("moonwire_reloads_total", [("strategy", name)], statistics.reloads),
                ("moonwire_errors_total", [("strategy", name)], statistics.errors),
            ]
            for (label, dimensions, total) in totals {
                let key = label + dimensions.map { "|\($0.1)" }.joined()
                let delta = lastTotals.withLockedValue { last -> Int in
                    let before = last[key] ?? 0
                    last[key] = max(before, total)
                    return max(0, total - before)
                }
                // Present from the first scrape, at 0 when nothing happened yet.
                let counter = Metrics.Counter(label: label, dimensions: dimensions)
                counter.increment(by: delta)
            }
        }
        return registry.emitToString()
    }

    /// Resident memory from /proc/self/statm (pages), nil where there is none.
    static func residentBytes() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Double(fields[1]) else { return nil }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE)))
    }
}
