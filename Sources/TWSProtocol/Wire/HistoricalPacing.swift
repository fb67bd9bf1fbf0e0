/// IB's pacing rules for historical data (protocol.md §5). The paper gateway enforces them
/// (error 162 exactly where IB would send it); the client schedules its requests by them so
/// that a caller never meets a 162:
/// an identical request within 15 s; 6 or more requests for the same contract, exchange and
/// data type within 2 s; more than 60 requests in 10 minutes; more than 50 open at once.
public struct HistoricalPacing: Sendable {
    struct Entry: Sendable {
        var time: Double
        var identity: String
        var contractKey: String
    }

    private var recent: [Entry] = []
    /// Open keepUpToDate requests.
    public private(set) var open: Set<String> = []
    public var maximumInWindow = 60
    public var window = 600.0
    /// Extra seconds on every rule. A client scheduling its own requests sets it so that the
    /// server, which counts a request a little later than the client sent it, agrees.
    public var margin = 0.0

    public init() {}

    /// Why a request now would violate pacing, or nil when it may go ahead.
    public func violation(identity: String, contractKey: String, now: Double) -> String? {
        let live = recent.filter { now - $0.time <= window + margin }
        if live.contains(where: { $0.identity == identity && now - $0.time < 15 + margin }) {
            return "Historical Market Data Service error message:Historical data request pacing violation (identical request within 15 seconds)"
        }
        if live.filter({ $0.contractKey == contractKey && now - $0.time < 2 + margin }).count >= 5 {
            return "Historical Market Data Service error message:Historical data request pacing violation (6 or more requests for the same contract within 2 seconds)"
        }
        if live.count >= maximumInWindow {
            return "Historical Market Data Service error message:Historical data request pacing violation (more than 60 requests within 10 minutes)"
        }
        if open.count >= 50 {
            return "Historical Market Data Service error message:Max number of open historical data requests (50) reached"
        }
        return nil
    }

    /// Records a request and returns why it violates pacing, or nil when it may go ahead.
    public mutating func admit(identity: String, contractKey: String, now: Double) -> String? {
        recent.removeAll { now - $0.time > window + margin }
        if let violation = violation(identity: identity, contractKey: contractKey, now: now) { return violation }
        recent.append(Entry(time: now, identity: identity, contractKey: contractKey))
        return nil
    }

    /// The earliest time at or after `now` when the request would be admitted (ignoring the
    /// open-request cap, which only a close can lift).
    public func earliestAdmission(identity: String, contractKey: String, now: Double) -> Double {
        var time = now
        let live = recent.filter { now - $0.time <= window + margin }
        if let last = live.filter({ $0.identity == identity }).map(\.time).max() { time = max(time, last + 15 + margin) }
        let sameContract = live.filter { $0.contractKey == contractKey }.map(\.time).sorted()
        if sameContract.count >= 5 { time = max(time, sameContract[sameContract.count - 5] + 2 + margin) }
        if live.count >= maximumInWindow {
            let times = live.map(\.time).sorted()
            time = max(time, times[live.count - maximumInWindow] + window + margin + 0.001)
        }
        return time
    }

    public mutating func opened(_ key: String) { open.insert(key) }
    public mutating func closed(_ key: String) { open.remove(key) }
}
