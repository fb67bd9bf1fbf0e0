import Foundation

/// The market's time when it is not the wall clock's: a replay through the paper gateway runs
/// stored bars `speed` times as fast as the wall clock. One clock for both sides: the gateway
/// keeps its market time by it, and a run's strategies take the same clock from the built-in
/// gateway for `now()` and timers (at 60x `timer.after(60)` fires a market minute later, a wall
/// second, as it would live).
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

    /// The wall nanoseconds `nanoseconds` of market time take: at least one, and at most
    /// `Int64.max` (a year at a speed of 1e-9 is more nanoseconds than an Int64 holds).
    public func wallNanoseconds(_ nanoseconds: Int64) -> Int64 {
        let wall = (Double(nanoseconds) / speed).rounded()
        guard wall < Double(Int64.max) else { return Int64.max }
        return max(1, Int64(wall))
    }
}
