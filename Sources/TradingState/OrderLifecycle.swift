/// How an order's status moves on what TWS reports, as IB defines the statuses
/// (protocol.md §5): a pure function, tested over IB's documented sequences without I/O.
///
/// * PendingSubmit, ApiPending, PreSubmitted, Submitted: working (`submitted`).
/// * PendingCancel: still working until TWS confirms (`submitted`): it can still fill.
/// * Cancelled, ApiCancelled: `cancelled`. Filled: `filled` (once the executions show it,
///   see `TradingState`; until then the order stays working, never ended otherwise, and a
///   reconciliation whose executions never show it ends it filled on TWS's word). Rejections
///   come as errors, not statuses.
/// * Inactive: *not* terminal. IB uses it for an order it holds but does not work (outside
///   its hours, waiting for a condition, a margin check); it may become Submitted again,
///   and it can be cancelled.
/// * Terminal statuses (filled, cancelled, rejected) never move again; an order whose fate
///   was unknown (lost over a restart) takes whatever TWS reports of it.
public enum OrderLifecycle {
    /// The status TWS names, in our terms (nil for a name IB does not document).
    public static func status(tws: String) -> OrderRecord.Status? {
        switch tws {
        case "PendingSubmit", "ApiPending", "PreSubmitted", "Submitted", "PendingCancel": return .submitted
        case "Filled": return .filled
        case "Cancelled", "ApiCancelled": return .cancelled
        case "Inactive": return .inactive
        default: return nil
        }
    }

    /// The status after TWS reports `tws` for an order now `current`.
    public static func next(_ current: OrderRecord.Status, reported tws: String) -> OrderRecord.Status {
        guard let reported = status(tws: tws) else { return current }
        if current.isTerminal { return current }
        return reported
    }
}
