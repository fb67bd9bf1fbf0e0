import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// Journal first, strictly, and off the market-data loop.
///
/// The state changes on the client's loop, where TWS's messages arrive; the journal is
/// written on a loop of its own (`writer`), in the order the changes were made, and the
/// consumers are told there, after the journal holds what they hear of.
///
/// When the journal cannot be written (disk full, read-only, a deleted folder: a `storage`
/// fault), trading closes (`.journalFailed` says why: the one event told without being
/// journaled), and what could not be written waits, in order, with everything after it.
/// Retries, spaced out (`retryDelays`), write what waits and then probe the journal; the
/// first that succeeds reopens trading by itself and says so (`.journalRestored`, a log
/// line): nothing is delivered unjournaled, nothing is lost, nobody has to restart.
///
/// A record the journal cannot hold (a `row` fault: a field its encoding refuses) fails
/// alone: it is logged, noted in the journal as `not journaled` and its events delivered;
/// nothing closes, nothing waits behind it.
extension TradingState {
    /// The waits between retries while the journal cannot be written: quick at first, then
    /// every 10 s (a probe is one small transaction), so a freed disk reopens trading within 10 s.
    static let retryDelays: [TimeAmount] = [.milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10)]
    /// A failure this soon after trading reopened continues the slower retries, so that a
    /// journal that takes the probe but not the next order does not flap quickly.
    static let settledAfter = 60.0

    /// Writes, then tells; or, while the journal fails, queues both behind what waits.
    /// Call on the client's loop (the order of calls is the order of writes).
    func journaled(_ what: String, _ write: @escaping @Sendable () throws -> Void, then events: [TradingEvent]) {
        let item = JournalItem(what: what, write: write, events: events)
        writer.execute { self.process(item) }
    }

    /// A strategy's `store`, journaled like everything else: written in order behind what
    /// waits; while the journal cannot be written it waits with the rest (trading is closed,
    /// the strategies are told) and is written by the retries. Any thread.
    public func saveStore(strategy: String, data: Data) {
        journaled("the store of \(strategy)", { [journal] in try journal.writeStore(strategy: strategy, data: data) }, then: [])
    }

    /// Waits (up to `seconds`) until everything handed to the journal's writer so far is
    /// written. Returns nil when it is, or how many writes still wait (the journal failing).
    /// `clientRunning`: false once the client has stopped (its loop is shut down, and ran all
    /// it had before it stopped: nothing more can come from it, and a hop onto it is refused).
    public func drainJournal(within seconds: Double, clientRunning: Bool = true) async -> Int? {
        let deadline = Date().addingTimeInterval(seconds)
        if clientRunning {
            // What the client's loop handed over reaches the writer first: one turn of that
            // loop, bounded (a loop that shuts down meanwhile drops what it is given).
            let turned = writer.makePromise(of: Void.self)
            let once = NIOLockedValueBox(false)
            let finish: @Sendable () -> Void = { if once.withLockedValue({ done in defer { done = true }; return !done }) { turned.succeed(()) } }
            loop.execute(finish)
            let timer = writer.scheduleTask(in: .milliseconds(Int64(max(seconds, 0) * 1000))) { finish() }
            try? await turned.futureResult.get()
            timer.cancel()
        }
        while true {
            // The writer runs its items in order: this answer comes after every write before it.
            guard let left = try? await writer.submit({ self.backlog.count }).get() else { return nil }
            if left == 0 { return nil }
            if Date() >= deadline { return left }
            try? await Task.sleep(for: .milliseconds(50))
        }
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
            } catch where JournalFault(error) == .row {
                notJournaled(item, error)
                return
            } catch {
                journalFailed(item.what, error)
            }
        }
        backlog.append(item)
        scheduleRetry()
    }

    func deliver(_ event: TradingEvent) {
        for observer in observers { observer(event) }
    }

    /// On the writer: a record the journal cannot hold is skipped alone (logged, noted in the
    /// journal, its events delivered: what TWS reported is true whether or not it is kept).
    private func notJournaled(_ item: JournalItem, _ error: Error) {
        logger.error("journal: \(item.what) cannot be journaled (\(error)); skipped alone, trading goes on")
        journal.connectionEvent("not journaled", "\(item.what): \(error)")
        for event in item.events { deliver(event) }
    }

    /// Any thread: a storage fault closes trading and tells the consumers why (once); the
    /// retries that will reopen it start.
    func journalFailed(_ what: String, _ error: Error) {
        let reason = "the journal \(journal.path) cannot be written (\(what): \(error)); trading is closed until it can "
            + "(it reopens by itself), and nothing is delivered that it does not hold"
        let first = failure.withLockedValue { current -> Bool in
            guard current == nil else { return false }
            current = reason
            return true
        }
        guard first else { return }
        logger.critical("\(reason)")
        client.orderGate.update(["journal": reason])
        writer.execute {
            if Date().timeIntervalSince1970 - self.reopenedAt > Self.settledAfter { self.retryStep = 0 }
            self.deliver(.journalFailed(reason))
            self.scheduleRetry()
        }
    }

    /// On the writer.
    private func scheduleRetry() {
        guard !retryScheduled else { return }
        retryScheduled = true
        let delay = Self.retryDelays[min(retryStep, Self.retryDelays.count - 1)]
        retryStep += 1
        writer.scheduleTask(in: delay) { [self] in
            retryScheduled = false
            retry()
        }
    }

    /// On the writer: writes what waits, in order, and tells its events (stops at the first
    /// storage fault); then, if trading is closed, probes the journal and reopens it.
    private func retry() {
        while let item = backlog.first {
            do {
                try item.write?()
                backlog.removeFirst()
                for event in item.events { deliver(event) }
            } catch where JournalFault(error) == .row {
                backlog.removeFirst()
                notJournaled(item, error)
            } catch {
                scheduleRetry()
                return
            }
        }
        guard let reason = journalFailure else { return }
        do {
            try journal.probe(after: reason)
        } catch {
            scheduleRetry()
            return
        }
        failure.withLockedValue { $0 = nil }
        reopenedAt = Date().timeIntervalSince1970
        logger.warning("journal writable again: trading reopened (it had failed: \(reason))")
        client.orderGate.update(["journal": nil])
        deliver(.journalRestored)
    }
}

/// A write and the events it makes known.
struct JournalItem: Sendable {
    var what: String
    var write: (@Sendable () throws -> Void)?
    var events: [TradingEvent]
}
