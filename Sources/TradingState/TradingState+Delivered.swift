import Foundation
import NIOCore

/// What the consumers have been told, as opposed to what the state holds: the state changes
/// on the client's loop first and is told on the writer after the journal holds it, so a
/// snapshot of the state may hold what nobody has been told yet (an execution waiting behind
/// a slow or failing journal). Whoever starts from the state (a strategy's starting book and
/// orders) starts from the delivered point, so that each change reaches it exactly once:
/// in what it starts with, or as an event after.
extension TradingState {
    /// Runs `body` on the writer at the point of the delivery order the state has reached
    /// now, with the state as of that point: every change in the snapshot has been told to
    /// the observers before `body` runs, and every later change is told after it returns.
    /// While the journal cannot be written, the point waits with what waits before it.
    public func atDeliveredPoint(_ what: String, _ body: @escaping @Sendable (Snapshot) -> Void) {
        loop.execute {
            let snapshot = self.makeSnapshot()
            self.enqueue(JournalItem(what: what, write: nil, events: [], done: { outcome in
                if outcome == .written { body(snapshot) }
            }))
        }
    }

    /// Journals a strategy's `store` like every other record (any thread): in order on the
    /// writer; a journal that cannot be written closes trading and keeps the write waiting,
    /// in order, until it can. `done` hears what became of it (on the writer).
    public func journalStore(strategy: String, data: Data, done: @escaping @Sendable (JournalWriteOutcome) -> Void) {
        enqueue(JournalItem(what: "store of \(strategy)", write: { [journal] in try journal.writeStore(strategy: strategy, data: data) },
                            events: [], done: done))
    }

    /// Waits until the writer has journaled and told everything queued before this call (what
    /// the client's loop is handling now included), at most `seconds`. Returns how many
    /// writes still wait (0: drained), with why the journal fails when some do.
    public func drainWriter(within seconds: Double) async -> (waiting: Int, failure: String?) {
        let deadline = Date().addingTimeInterval(max(seconds, 0))
        // Whatever the client's loop is handling reaches the writer's queue first.
        _ = try? await loop.submit {}.get()
        while true {
            let waiting = (try? await writer.submit { self.backlog.count }.get()) ?? 0
            if waiting == 0 || Date() >= deadline { return (waiting, waiting == 0 ? nil : journalFailure) }
            // The retries (spaced out by `retryDelays`) write what waits: look again shortly.
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}
