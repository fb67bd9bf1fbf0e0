import NIOCore
import TWSProtocol
import TradingState

/// `on_fill` carries the commission: IB sends the commission report just after the
/// execution, so a fill without one waits for it (at most `commissionWait`), and every event
/// for that strategy behind the fill waits too, so nothing is reordered (invariant 3).
/// Runs on the trading state's events loop, where its events arrive.
extension StrategyRunner {
    static let commissionWait = TimeAmount.milliseconds(500)

    /// Posts `event` to `strategy`, or queues it behind a fill that waits for its commission.
    func relay(_ event: StrategyEvent, to strategy: Strategy) {
        let name = strategy.name
        if case let .error(code, message, nil) = event, fold(notice: code, message: message, for: strategy) { return }
        if heldForCommission[name] != nil {
            heldForCommission[name]?.behind.append(event)
            return
        }
        if case let .fill(execution) = event, execution.commission == nil {
            let timeout: Scheduled<Void> = state.eventsLoop.scheduleTask(in: Self.commissionWait) { [weak self] () -> Void in
                self?.release(strategy: name, commission: nil)
            }
            heldForCommission[name] = (execution, [], timeout)
            return
        }
        strategy.post(event)
    }

    /// The commission report of a held fill: the fill goes out with it, then what waited. One
    /// that comes after its fill went out without it still reaches the owner's positions.
    func commissionArrived(_ execution: ExecutionRecord, owner: Strategy?) {
        if let name = heldForCommission.first(where: { $0.value.fill.execId == execution.execId })?.key {
            release(strategy: name, commission: execution.commission)
        } else if let owner, let report = execution.commission {
            relay(.commission(report), to: owner)
        }
    }

    private func release(strategy name: String, commission: CommissionReport?) {
        guard let held = heldForCommission.removeValue(forKey: name) else { return }
        held.timeout.cancel()
        guard let strategy = strategy(named: name) else { return }
        var fill = held.fill
        if let commission { fill.commission = commission }
        strategy.post(.fill(fill))
        // What waited behind it goes through `relay` again: a later fill may wait in turn.
        for event in held.behind { relay(event, to: strategy) }
    }
}
