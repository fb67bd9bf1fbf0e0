/// Spaces outgoing messages so no more than `perSecond` leave in any second (IB allows 50;
/// more is error 100 and, sustained, a dropped connection). A sliding window over send times.
public struct RateLimiter: Sendable {
    public let perSecond: Int
    private var sent: [Double] = []

    public init(perSecond: Int) {
        self.perSecond = max(1, min(perSecond, 50))
    }

    /// Seconds to wait before the next message may go (0: now).
    public func delay(now: Double) -> Double {
        let live = sent.filter { now - $0 < 1 }
        guard live.count >= perSecond else { return 0 }
        return live[live.count - perSecond] + 1 - now
    }

    public mutating func record(now: Double) {
        sent.append(now)
        if sent.count > perSecond * 2 { sent.removeFirst(sent.count - perSecond) }
    }
}
