#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StrategyHost

/// The simulated time of the backtest whose strategy runs on the calling thread, for the
/// backtest's log lines (`log.txt`): a log handler knows nothing of the backtest, but it is
/// called on the strategy's loop, the one thread that backtest's clock lives on. One strategy
/// runs on a loop at a time (a sweep hands a loop to the next combination only when one ends),
/// so the thread names the backtest. The backtest is held weakly: a finished one is not kept
/// alive by its loop's thread. Its services, not its clock: a weak reference moves an object's
/// counts to a side table, which makes every retain of it slower, and the clock is retained
/// on every bar (the services already have one: the strategy holds them weakly).
public enum SimulatedLogTime {
    /// Seconds since 1970 on the clock of the backtest running on this thread; nil when none
    /// has set its clock here yet (its file's top level is still loading) or it has ended.
    public static var now: Double? {
        guard let pointer = pthread_getspecific(clockKey) else { return nil }
        return Unmanaged<ClockHolder>.fromOpaque(pointer).takeUnretainedValue().backtest?.clock?.now
    }

    /// From now on, lines logged on this thread take the time of `backtest`'s clock (the
    /// strategy's loop, when the backtest sets its clock).
    static func use(_ backtest: BacktestServices) {
        if let pointer = pthread_getspecific(clockKey) {
            Unmanaged<ClockHolder>.fromOpaque(pointer).takeUnretainedValue().backtest = backtest
        } else {
            let holder = ClockHolder()
            holder.backtest = backtest
            _ = pthread_setspecific(clockKey, Unmanaged.passRetained(holder).toOpaque())
        }
    }
}

/// One thread's backtest (touched only by that thread).
private final class ClockHolder {
    weak var backtest: BacktestServices?
}

/// The thread's `ClockHolder`, released when the thread ends.
private let clockKey: pthread_key_t = {
    var key = pthread_key_t()
    let status = pthread_key_create(&key) { pointer in releaseClockHolder(pointer) }
    precondition(status == 0, "no thread-specific key for the backtest's log time")
    return key
}()

private func releaseClockHolder(_ pointer: UnsafeMutableRawPointer?) {
    guard let pointer else { return }
    Unmanaged<ClockHolder>.fromOpaque(pointer).release()
}
