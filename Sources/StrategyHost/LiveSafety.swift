/// Paper is the default everywhere; live trading needs an explicit opt-in in the config AND
/// on the command line, and the account id is checked (design.md invariant 6).
public enum LiveSafety {
    /// TWS live and IB Gateway live.
    public static let livePorts: Set<Int> = [7496, 4001]

    /// Why trading must be refused, or nil when it may go ahead.
    public static func refusal(port: Int?, accounts: [String], liveFlag: Bool, allowLive: Bool) -> String? {
        guard !(liveFlag && allowLive) else { return nil }
        if let port, livePorts.contains(port) {
            return message("port \(port) is a live TWS / IB Gateway port")
        }
        if let account = accounts.first(where: { !$0.hasPrefix("D") }) {
            return message("account \(account) is not a paper account (paper accounts start with D)")
        }
        return nil
    }

    static func message(_ reason: String) -> String {
        "refusing to trade live: \(reason). Live trading needs both --live on the command line and trading.allow_live: true in the config."
    }
}
