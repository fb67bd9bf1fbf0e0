import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Waits for `start` to hand over a value through its callback, at most `seconds`: nil
/// when it does not in time. Used where the host must not wait on a strategy's loop, which
/// a stuck handler holds for good: stopping, statistics, the kill switch.
public func boundedWait<T: Sendable>(_ seconds: Double, _ start: (@escaping @Sendable (T?) -> Void) -> Void) async -> T? {
    let once = NIOLockedValueBox<CheckedContinuation<T?, Never>?>(nil)
    return await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
        once.withLockedValue { $0 = continuation }
        @Sendable func finish(_ value: T?) {
            once.withLockedValue { pending -> CheckedContinuation<T?, Never>? in
                defer { pending = nil }
                return pending
            }?.resume(returning: value)
        }
        start(finish)
        Task {
            try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            finish(nil)
        }
    }
}

extension EventLoopFuture where Value: Sendable {
    /// The future's value, or nil when it does not complete within `seconds` (or fails).
    public func value(within seconds: Double) async -> Value? {
        await boundedWait(seconds) { finish in whenComplete { result in finish(try? result.get()) } }
    }
}

extension MultiThreadedEventLoopGroup {
    /// Shuts the group down, waiting at most `seconds` (a loop held by a stuck handler never
    /// finishes shutting down). Returns whether it did.
    func shutdown(within seconds: Double) async -> Bool {
        await boundedWait(seconds) { finish in shutdownGracefully { _ in finish(true) } } ?? false
    }
}
