/// IB's pacing rules for historical data (protocol.md §5), so clients meet error 162 here
/// exactly where they would meet it at IB:
/// an identical request within 15 s; 6 or more requests for the same contract, exchange and
/// data type within 2 s; more than 60 requests in 10 minutes; more than 50 open at once.
public struct HistoricalPacing: Sendable {
    struct Entry {
        var time: Double
        var identity: String
        var contractKey: String
    }

    private var recent: [Entry] = []
    /// Open keepUpToDate requests.
    public private(set) var open: Set<String> = []

    public init() {}

    /// Records a request and returns why it violates pacing, or nil when it may go ahead.
    public mutating func admit(identity: String, contractKey: String, now: Double) -> String? {
        recent.removeAll { now - $0.time > 600 }
        if recent.contains(where: { $0.identity == identity && now - $0.time < 15 }) {
            return "Historical Market Data Service error message:Historical data request pacing violation (identical request within 15 seconds)"
        }
        if recent.filter({ $0.contractKey == contractKey && now - $0.time < 2 }).count >= 5 {
            return "Historical Market Data Service error message:Historical data request pacing violation (6 or more requests for the same contract within 2 seconds)"
        }
        if recent.count >= 60 {
            return "Historical Market Data Service error message:Historical data request pacing violation (more than 60 requests within 10 minutes)"
        }
        if open.count >= 50 {
            return "Historical Market Data Service error message:Max number of open historical data requests (50) reached"
        }
        recent.append(Entry(time: now, identity: identity, contractKey: contractKey))
        return nil
    }

    public mutating func opened(_ key: String) { open.insert(key) }
    public mutating func closed(_ key: String) { open.remove(key) }
}
