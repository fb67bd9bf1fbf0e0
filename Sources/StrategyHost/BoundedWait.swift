import NIOConcurrencyHelpers
import NIOCore

extension EventLoopFuture where Value: Sendable {
    /// The future's value, or nil when it does not complete within `seconds` (or fails).
    /// Used where the host must not wait on a strategy's loop, which a hung handler holds
    /// for good: stopping, statistics, the kill switch.
    func value(within seconds: Double) async -> Value? {
        let once = NIOLockedValueBox<CheckedContinuation<Value?, Never>?>(nil)
        return await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
            once.withLockedValue { $0 = continuation }
            @Sendable func finish(_ value: Value?) {
                once.withLockedValue { pending -> CheckedContinuation<Value?, Never>? in
                    defer { pending = nil }
                    return pending
                }?.resume(returning: value)
            }
            whenComplete { result in finish(try? result.get()) }
            Task {
                try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                finish(nil)
            }
        }
    }
}
