import Foundation

/// The market's time when it is not the wall clock's: a replay through the paper gateway runs
/// stored bars `speed` times as fast as the wall clock. `now()` and timers follow it, so a
/// strategy replayed at 60x sees the bars' times from `now()`, and `timer.after(60)` fires a
/// market minute later (a wall second), as it would live.
public struct MarketClock: Sendable, Equatable {
    /// The market's time (epoch seconds) at `wallStart`.
    public var start: Double
    /// The wall clock's time at `start`.
    public var wallStart: Double
    /// Market seconds per wall second (> 0).
    public var speed: Double

    public init(start: Double, wallStart: Double, speed: Double) {
        self.start = start
        self.wallStart = wallStart
        self.speed = speed.isFinite && speed > 0 ? speed : 1
    }

    /// The market's time now.
    public func now(wall: Double = Date().timeIntervalSince1970) -> Double {
        start + (wall - wallStart) * speed
    }

    /// The wall nanoseconds `nanoseconds` of market time take (at least one).
    public func wallNanoseconds(_ nanoseconds: Int64) -> Int64 {
        max(1, Int64((Double(nanoseconds) / speed).rounded()))
    }
}
