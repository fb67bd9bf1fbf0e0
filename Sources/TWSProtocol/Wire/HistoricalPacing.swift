/// IB's pacing rules for historical data (protocol.md §5, and IB's "Historical Data
/// Limitations"). The paper gateway enforces them (error 162 exactly where IB would send it);
/// the client schedules its requests by them so that a caller never meets a 162.
///
/// For bars of 30 seconds or less ("small bars"): an identical request within 15 s; 6 or more
/// requests for the same contract, exchange and data type within 2 s; more than 60 requests in
/// 10 minutes. A BID_ASK request counts twice. For bars of 1 minute and above IB lifted those
/// rules (it throttles softly instead): only the cap of 50 open requests applies to them, and
/// they do not count toward the small-bar budget.
public struct HistoricalPacing: Sendable {
    struct Entry: Sendable {
        var time: Double
        var identity: String
        var contractKey: String
    }

    /// The largest bar (seconds) the small-bar rules apply to.
    public static let smallBarSeconds = 30
    /// IB's cap on historical requests open at once.
    public static let maximumOpen = 50

    private var recent: [Entry] = []
    /// Open keepUpToDate requests.
    public private(set) var open: Set<String> = []
    public var maximumInWindow = 60
    public var window = 600.0
    /// Extra seconds on every rule. A client scheduling its own requests sets it so that the
    /// server, which counts a request a little later than the client sent it, agrees.
    public var margin = 0.0

    public init() {}

    /// Whether the small-bar rules apply to a bar size of `barSeconds`; nil (unknown) is
    /// treated as small, the stricter reading.
    public static func isSmallBar(_ barSeconds: Int?) -> Bool { (barSeconds ?? 0) <= smallBarSeconds }

    /// The bar size named in an identity (`…:1 min:…`, as the gateway and the client build
    /// them: ':'-separated fields, one of them the bar size as IB spells it), or nil.
    public static func barSeconds(inIdentity identity: String) -> Int? {
        for field in identity.split(separator: ":").reversed() {
            if let seconds = HistoricalSpan.barSeconds(String(field)) { return seconds }
        }
        return nil
    }

    /// How many requests one counts for: BID_ASK twice (IB's note), the contract key ending in
    /// the data type as both the gateway and the client build it.
    static func weight(contractKey: String) -> Int { contractKey.uppercased().hasSuffix(":BID_ASK") ? 2 : 1 }

    /// Why a request now would violate pacing, or nil when it may go ahead. The bar size is
    /// read from `identity` (see `barSeconds(inIdentity:)`).
    public func violation(identity: String, contractKey: String, now: Double) -> String? {
        violation(identity: identity, contractKey: contractKey, barSeconds: Self.barSeconds(inIdentity: identity), now: now)
    }

    /// Why a request for bars of `barSeconds` now would violate pacing, or nil when it may go ahead.
    public func violation(identity: String, contractKey: String, barSeconds: Int?, now: Double) -> String? {
        if Self.isSmallBar(barSeconds) {
            let weight = Self.weight(contractKey: contractKey)
            let live = recent.filter { now - $0.time <= window + margin }
            if live.contains(where: { $0.identity == identity && now - $0.time < 15 + margin }) {
                return "Historical Market Data Service error message:Historical data request pacing violation (identical request within 15 seconds)"
            }
            if live.filter({ $0.contractKey == contractKey && now - $0.time < 2 + margin }).count + weight > 5 {
                return "Historical Market Data Service error message:Historical data request pacing violation (6 or more requests for the same contract within 2 seconds)"
            }
            if live.count + weight > maximumInWindow {
                return "Historical Market Data Service error message:Historical data request pacing violation (more than 60 requests within 10 minutes)"
            }
        }
        if open.count >= Self.maximumOpen {
            return "Historical Market Data Service error message:Max number of open historical data requests (50) reached"
        }
        return nil
    }

    /// Records a request and returns why it violates pacing, or nil when it may go ahead. The
    /// bar size is read from `identity` (see `barSeconds(inIdentity:)`).
    public mutating func admit(identity: String, contractKey: String, now: Double) -> String? {
        admit(identity: identity, contractKey: contractKey, barSeconds: Self.barSeconds(inIdentity: identity), now: now)
    }

    /// Records a request for bars of `barSeconds` and returns why it violates pacing, or nil
    /// when it may go ahead. Only small-bar requests are counted toward the small-bar rules.
    public mutating func admit(identity: String, contractKey: String, barSeconds: Int?, now: Double) -> String? {
        recent.removeAll { now - $0.time > window + margin }
        if let violation = violation(identity: identity, contractKey: contractKey, barSeconds: barSeconds, now: now) { return violation }
        if Self.isSmallBar(barSeconds) {
            for _ in 0..<Self.weight(contractKey: contractKey) { recent.append(Entry(time: now, identity: identity, contractKey: contractKey)) }
        }
        return nil
    }

    /// The earliest time at or after `now` when the request would be admitted (ignoring the
    /// open-request cap, which only a close can lift).
    public func earliestAdmission(identity: String, contractKey: String, now: Double) -> Double {
        earliestAdmission(identity: identity, contractKey: contractKey, barSeconds: Self.barSeconds(inIdentity: identity), now: now)
    }

    /// The earliest time at or after `now` when a request for bars of `barSeconds` would be
    /// admitted (ignoring the open-request cap, which only a close can lift).
    public func earliestAdmission(identity: String, contractKey: String, barSeconds: Int?, now: Double) -> Double {
        guard Self.isSmallBar(barSeconds) else { return now }
        let weight = Self.weight(contractKey: contractKey)
        var time = now
        let live = recent.filter { now - $0.time <= window + margin }
        if let last = live.filter({ $0.identity == identity }).map(\.time).max() { time = max(time, last + 15 + margin) }
        // Admitted once at most 5 - weight of the same contract's are within 2 s, and at most
        // `maximumInWindow` - weight of all within the window.
        let sameContract = live.filter { $0.contractKey == contractKey }.map(\.time).sorted()
        let sameExcess = sameContract.count - (5 - weight)
        if sameExcess > 0 { time = max(time, sameContract[sameExcess - 1] + 2 + margin) }
        let excess = live.count - (maximumInWindow - weight)
        if excess > 0 {
            let times = live.map(\.time).sorted()
            time = max(time, times[min(excess, times.count) - 1] + window + margin + 0.001)
        }
        return time
    }

    /// Seconds from `now` until `count` more small-bar requests for one contract (each
    /// counted once) could all have been admitted: the 60-in-10-minutes window and the 6-in-2-s
    /// rule, from what was sent so far. What a download of small bars cannot go faster than
    /// (its time left says so). 0 for no request; bounded work for any count.
    public func secondsUntilAdmitted(further count: Int, now: Double) -> Double {
        guard count > 0 else { return 0 }
        var window = recent.filter { now - $0.time <= self.window + margin }.map(\.time).sorted()
        var mine: [Double] = []
        var time = now
        // Past a few windows the rest is arithmetic: whole windows of `maximumInWindow` each.
        let simulated = min(count, maximumInWindow * 4)
        for _ in 0..<simulated {
            if window.count >= maximumInWindow { time = max(time, window[window.count - maximumInWindow] + self.window + margin + 0.001) }
            if mine.count >= 5 { time = max(time, mine[mine.count - 5] + 2 + margin) }
            window.append(time)
            mine.append(time)
        }
        let rest = count - simulated
        if rest > 0 {
            let windows = rest / maximumInWindow + (rest % maximumInWindow > 0 ? 1 : 0)
            time += Double(windows) * (self.window + margin)
        }
        return time - now
    }

    public mutating func opened(_ key: String) { open.insert(key) }
    public mutating func closed(_ key: String) { open.remove(key) }
}
