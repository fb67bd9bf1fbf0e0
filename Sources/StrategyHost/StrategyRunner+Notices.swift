import Foundation
import NIOCore

/// A storm of the same notice from TWS (10,000 copies of 2110 "connectivity is broken")
/// must not become 10,000 on_error calls: per strategy and code, at most
/// `noticesPerWindow` a window of `noticeWindow` reach on_error; the rest are counted and one
/// event says how many were folded when the window ends. Errors about an order (with an
/// order id) are never folded. Runs on the trading state's events loop.
extension StrategyRunner {
    static let noticeWindow = TimeAmount.seconds(10)
    static let noticesPerWindow = 5

    /// True when the notice is folded (not delivered).
    func fold(notice code: String, message: String, for strategy: Strategy) -> Bool {
        let key = strategy.name + "|" + code
        if var window = noticeWindows[key] {
            if window.delivered < Self.noticesPerWindow {
                window.delivered += 1
                noticeWindows[key] = window
                return false
            }
            window.folded += 1
            window.last = message
            noticeWindows[key] = window
            return true
        }
        noticeWindows[key] = (1, 0, message)
        state.eventsLoop.scheduleTask(in: Self.noticeWindow) { [weak self] in
            guard let self, let window = self.noticeWindows.removeValue(forKey: key) else { return }
            guard window.folded > 0 else { return }
            strategy.post(.error(code: code, message: "\(window.folded) more '\(code)' notices in the last \(Self.noticeWindow.nanoseconds / 1_000_000_000) s were folded "
                                 + "(the last: \(window.last))", orderId: nil))
        }
        return false
    }
}
