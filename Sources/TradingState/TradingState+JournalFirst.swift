import Foundation
import NIOCore

/// Journal first, strictly: a consumer hears of an event only after the journal has it. When
/// the journal cannot be written (disk full, read-only, a deleted folder), trading closes
/// (`.journalFailed` says why, the one event told without being journaled), and what could not
/// be written waits, in order, with everything after it, until a retry (every second)
/// writes it: nothing is delivered unjournaled, nothing is lost.
extension TradingState {
    /// Writes, then tells; or, while the journal fails, queues both behind what waits.
    func journaled(_ what: String, _ write: @escaping () throws -> Void, then events: [TradingEvent]) {
        if backlog.isEmpty {
            do {
                try write()
                for event in events { deliver(event) }
                return
            } catch {
                journalFailed(what, error)
            }
        }
        backlog.append((what, write, events))
        scheduleBacklogRetry()
    }

    /// Tells the consumers, after whatever waits for the journal (order is kept).
    func emit(_ event: TradingEvent) {
        if backlog.isEmpty {
            deliver(event)
        } else {
            backlog.append(("", nil, [event]))
        }
    }

    func deliver(_ event: TradingEvent) {
        for observer in observers { observer(event) }
    }

    func journalFailed(_ what: String, _ error: Error) {
        guard journalFailure == nil else { return }
        let reason = "the journal \(journal.path) cannot be written (\(what): \(error)); trading is closed until it can, "
            + "and nothing is delivered that it does not hold"
        journalFailure = reason
        tradingAllowed = false
        logger.critical("\(reason)")
        deliver(.journalFailed(reason))
    }

    private func scheduleBacklogRetry() {
        guard !retryScheduled else { return }
        retryScheduled = true
        loop.scheduleTask(in: .seconds(1)) { [self] in
            retryScheduled = false
            retryBacklog()
        }
    }

    /// Writes what waits, in order, and tells its events; stops at the first failure.
    func retryBacklog() {
        while let item = backlog.first {
            if let write = item.write {
                do {
                    try write()
                } catch {
                    scheduleBacklogRetry()
                    return
                }
            }
            backlog.removeFirst()
            for event in item.events { deliver(event) }
        }
        guard let failure = journalFailure else { return }
        journalFailure = nil
        logger.notice("the journal can be written again (after: \(failure)); everything that waited is journaled and delivered")
        tradingAllowed = lastReport.unknown.isEmpty && (lastReport.unexplainedPositions.isEmpty || !options.failClosed)
        deliver(.journalRestored)
    }
}
