import NIOCore
import TWSClient

/// What a backtest drives a strategy with: the same strategy, handlers and Lua API as a live
/// run, but the clock is simulated and events are delivered at once, in the backtest's order,
/// instead of through the inbox. All of it on the strategy's loop (`loop.submit`), except
/// `settle`.
extension Strategy {
    /// Puts the strategy on `clock`: `now()`, timers and the risk gate's per-minute count
    /// follow it from here on. `marks` must give what `quotes`' last would (the latest close).
    public func useSimulatedClock(_ clock: SimulatedClock, quotes: @escaping (String) -> MarketQuote?,
                                  marks: @escaping (String) -> Double?)
    {
        loop.preconditionInEventLoop()
        self.clock = clock
        simulatedQuote = quotes
        simulatedMark = marks
        // The simulated broker's fills come once each, commission included: the book needs no
        // history to correct or complete them (a fresh strategy's book only).
        if positions.ledger.holdings.isEmpty { positions = PositionBook(keepsHistory: false) }
    }

    /// Delivers `event`, then what the strategy queued for itself meanwhile (a halt's error,
    /// an unknown instrument's), in order.
    public func deliverNow(_ event: StrategyEvent) {
        deliver(event)
        runQueued()
    }

    /// A bar to on_bar (the fast path: no table built in Swift), then what it queued.
    public func deliverBarNow(symbol: String, size: String, time: Int64, open: Double, high: Double, low: Double, close: Double,
                              volume: Double?, wap: Double?, count: Int?)
    {
        guard !stopped else { return }
        statistics.eventsDelivered += 1
        deliverBar(symbol: symbol, size: size, time: time, open: open, high: high, low: low, close: close,
                   volume: volume, wap: wap, count: count)
        if !queue.isEmpty { runQueued() }
    }

    /// A new close of an instrument held: its positions are marked again (the simulated quotes)
    /// against the daily loss limit, as a live quote would.
    public func markPositionsNow() {
        checkOwnLoss()
        if !queue.isEmpty { runQueued() }
    }

    /// Whether the file defines on_quote (a backtest then makes a quote of every bar for it).
    public var definesQuoteHandler: Bool { definedHandlers.contains("on_quote") }

    /// Moves the clock to `time`, firing the timers that fall due on the way (each at its own
    /// time, in order).
    public func advanceClock(to time: Double) {
        guard let clock else { return }
        while let id = clock.takeDue(upTo: time) {
            deliver(.timer(id))
            runQueued()
        }
        clock.now = max(clock.now, time)
    }

    /// A new trading day on the simulated clock: the daily loss limit counts from here, and a
    /// halt for the day's loss is lifted.
    public func beginSimulatedDay() {
        dayStartPnL = ownPnL
        gate = RiskGate(limits: gate.limits)
    }

    /// Whether a handler is suspended in a host call (market.history, market.contract).
    public var isWaiting: Bool { !waits.isEmpty }

    /// Returns once no handler waits for the host (its replies come through the inbox and are
    /// handled as in a live run). Any thread.
    public func settle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            loop.execute {
                if self.waits.isEmpty || self.stopped {
                    continuation.resume()
                } else {
                    self.settleWaiters.append(continuation)
                }
            }
        }
    }

    func resumeSettleWaiters() {
        let waiters = settleWaiters
        settleWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    /// Handles the queue now (the loop's own events), instead of at the next drain.
    func runQueued() {
        while let item = queue.popFirst() { handle(item) }
    }
}

