/// A strategy's time in a backtest: `now()` and the timers follow the bars, not the wall
/// clock. The backtest moves it forward (`Strategy.advanceClock(to:)`), firing the timers that
/// fall due on the way in the order they fall due (ties in the order they were set).
///
/// Used on the strategy's loop only, like the rest of the strategy.
public final class SimulatedClock: @unchecked Sendable {
    // Read and moved per bar of a backtest, on the strategy's loop only; no access calls out
    // while it lasts, so none can overlap another and the runtime's check of that is left out.
    @exclusivity(unchecked) public internal(set) var now: Double

    struct Due: Comparable {
        var time: Double
        var sequence: Int
        var timer: Int
        var interval: Double?
        static func < (lhs: Due, rhs: Due) -> Bool { (lhs.time, lhs.sequence) < (rhs.time, rhs.sequence) }
    }
    /// Timers still to fire, earliest first (a handful: a sorted array beats a heap here).
    @exclusivity(unchecked) private(set) var due: [Due] = []
    private var sequence = 0

    public init(startingAt now: Double) { self.now = now }

    func schedule(timer: Int, after seconds: Double, repeating: Bool) {
        insert(Due(time: now + seconds, sequence: 0, timer: timer, interval: repeating ? seconds : nil))
    }

    func cancel(timer: Int) { due.removeAll { $0.timer == timer } }

    func cancelAll() { due.removeAll() }

    /// The next timer due at or before `time`, taken off the list (a repeating one goes back
    /// on for its next time); the clock is set to when it falls due.
    func takeDue(upTo time: Double) -> Int? {
        guard let first = due.first, first.time <= time else { return nil }
        due.removeFirst()
        now = max(now, first.time)
        if let interval = first.interval {
            var next = first
            next.time += interval
            insert(next)
        }
        return first.timer
    }

    private func insert(_ entry: Due) {
        var entry = entry
        sequence += 1
        entry.sequence = sequence
        let index = due.firstIndex { entry < $0 } ?? due.endIndex
        due.insert(entry, at: index)
    }
}
