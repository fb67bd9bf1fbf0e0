import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// Journal first, strictly, and off the market-data loop.
///
/// The state changes on the client's loop, where TWS's messages arrive; the journal is
/// written on a loop of its own (`writer`), in the order the changes were made, and the
/// consumers are told there, after the journal holds what they hear of. When the journal
/// cannot be written (disk full, read-only, a deleted folder), trading closes
/// (`.journalFailed` says why: the one event told without being journaled), and what could
/// not be written waits, in order, with everything after it, until a retry (every second)
/// writes it: nothing is delivered unjournaled, nothing is lost.
extension TradingState {
    /// Writes, then tells; or, while the journal fails, queues both behind what waits.
    /// Call on the client's loop (the order of calls is the order of writes).
    func journaled(_ what: String, _ write: @escaping @Sendable () throws -> Void, then events: [TradingEvent]) {
        let item = JournalItem(what: what, write: write, events: events)
        writer.execute { self.process(item) }
    }

    /// Tells the consumers, after whatever waits to be journaled (order is kept).
    func emit(_ event: TradingEvent) {
        let item = JournalItem(what: "", write: nil, events: [event])
        writer.execute { self.process(item) }
    }

    /// On the writer.
    private func process(_ item: JournalItem) {
        if backlog.isEmpty {
            do {
                try item.write?()
                for event in item.events { deliver(event) }
                return
            } catch {
                journalFailed(item.what, error)
            }
        }
        backlog.append(item)
        scheduleBacklogRetry()
    }

    func deliver(_ event: TradingEvent) {
        for observer in observers { observer(event) }
    }

    /// Any thread: closes trading and tells the consumers why (once).
    func journalFailed(_ what: String, _ error: Error) {
        let reason = "the journal \(journal.path) cannot be written (\(what): \(error)); trading is closed until it can, "
            + "and nothing is delivered that it does not hold"
        let first = failure.withLockedValue { current -> Bool in
            guard current == nil else { return false }
            current = reason
            return true
        }
        guard first else { return }
        logger.critical("\(reason)")
        loop.execute { self.tradingAllowed = false }
        writer.execute { self.deliver(.journalFailed(reason)) }
    }

    private func scheduleBacklogRetry() {
        guard !retryScheduled else { return }
        retryScheduled = true
        writer.scheduleTask(in: .seconds(1)) { [self] in
            retryScheduled = false
            retryBacklog()
        }
    }

    /// On the writer: writes what waits, in order, and tells its events; stops at the first failure.
    private func retryBacklog() {
        while let item = backlog.first {
            do {
                try item.write?()
            } catch {
                scheduleBacklogRetry()
                return
            }
            backlog.removeFirst()
            for event in item.events { deliver(event) }
        }
        guard let reason = failure.withLockedValue({ value -> String? in defer { value = nil }; return value }) else { return }
        logger.notice("the journal can be written again (after: \(reason)); everything that waited is journaled and delivered")
        loop.execute {
            self.tradingAllowed = self.lastReport.unknown.isEmpty && (self.lastReport.unexplainedPositions.isEmpty || !self.options.failClosed)
        }
        deliver(.journalRestored)
    }
}

/// A write and the events it makes known.
struct JournalItem: Sendable {
    var what: String
    var write: (@Sendable () throws -> Void)?
    var events: [TradingEvent]
}
