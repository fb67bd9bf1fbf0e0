import Foundation

/// A run at a glance: what `moonwire run` shows in its status line and `moonwire status`
/// answers with.
public struct LiveStatus: Sendable, Equatable {
    /// `connected`, `lost`, `restored`.
    public var connection = "connected"
    /// Symbols with a market data stream.
    public var instruments = 0
    /// Quotes delivered to the strategies so far, and coalesced (the strategy was behind).
    public var quotes = 0
    public var quotesCoalesced = 0
    /// The strategies' orders open now, their fills in this run, their positions.
    public var openOrders = 0
    public var fills = 0
    public var positions = 0
    /// The account's PnL of the day as TWS last reported it.
    public var dailyPnL: Double?
    public var errors = 0
    /// Why orders may not leave, when they may not.
    public var tradingClosed: String?
    public var seconds = 0.0

    /// One line; `quotesPerSecond` from the caller, who knows the interval.
    public func line(quotesPerSecond: Double? = nil) -> String {
        func plural(_ count: Int, _ word: String) -> String { "\(count) \(word)\(count == 1 ? "" : "s")" }
        let elapsed = Int(seconds)
        let clock = String(format: "%02d:%02d:%02d", elapsed / 3600, elapsed / 60 % 60, elapsed % 60)
        var parts = [connection, plural(instruments, "instrument")]
        parts.append(quotesPerSecond.map { String(format: "%.0f quotes/s", $0) } ?? plural(quotes, "quote"))
        if quotesCoalesced > 0 { parts.append("\(quotesCoalesced) coalesced") }
        parts += [plural(openOrders, "open order"), plural(fills, "fill"), plural(positions, "position"),
                  "pnl " + (dailyPnL.map { String(format: "%.2f", $0) } ?? "n/a"), plural(errors, "error")]
        if let tradingClosed { parts.append("TRADING CLOSED (\(tradingClosed))") }
        return clock + " " + parts.joined(separator: " | ")
    }
}

extension MoonwireRuntime {
    /// The run now (bounded: a hung strategy's counts are its last published).
    public func liveStatus() async -> LiveStatus {
        var status = LiveStatus()
        let tracked = self.tracked.withLockedValue { $0 }
        status.connection = tracked.connection
        status.dailyPnL = tracked.dailyPnL
        status.instruments = runner.subscribedSymbolCount
        for (_, s) in await statistics() {
            status.quotes += s.quotesDelivered
            status.quotesCoalesced += s.quotesCoalesced
            status.fills += s.fills
            status.errors += s.errors + s.failedReloads  // a failed reload is an error too (the old code runs on)
        }
        let snapshot = await state.snapshot()
        let names = Set(strategyNames)
        status.openOrders = snapshot.orders.filter { names.contains($0.strategy) && !$0.status.isTerminal && $0.status != .unknown }.count
        status.positions = names.reduce(0) { $0 + PositionBook.own(of: $1, in: snapshot).count }
        status.tradingClosed = runner.orderFlowClosed?.code
        status.seconds = Date().timeIntervalSince(startedAt)
        return status
    }
}
