import Foundation

/// Batches of bars handed from one thread to another, at most `capacity` waiting: the CSV
/// import parses on one core while SQLite inserts on the other, memory bounded by the
/// capacity. The producer ends with `finish`; the consumer may `cancel`, after which the
/// producer's next `put` throws and the pipe drops what waits.
final class BatchPipe<Result: Sendable>: @unchecked Sendable {
    // @unchecked Sendable, proof: every stored property below is read and written only while
    // `condition` is locked (each method locks it first), so no two threads touch them at once.
    private let condition = NSCondition()
    private var waiting: [[StoredBar]] = []
    private var finished: Swift.Result<Result, Error>?
    private var cancelled = false
    private let capacity: Int

    init(capacity: Int) { self.capacity = max(capacity, 1) }

    /// Producer: waits while the pipe is full; throws `CancellationError` once the consumer cancelled.
    func put(_ batch: [StoredBar]) throws {
        condition.lock()
        defer { condition.unlock() }
        while waiting.count >= capacity && !cancelled { condition.wait() }
        if cancelled { throw CancellationError() }
        waiting.append(batch)
        condition.broadcast()
    }

    /// Producer: no more batches; `result` is what the consumer gets once it took them all.
    func finish(_ result: Swift.Result<Result, Error>) {
        condition.lock()
        finished = result
        condition.broadcast()
        condition.unlock()
    }

    /// Consumer: the next batch, or nil once the producer finished and none waits.
    func take() -> [StoredBar]? {
        condition.lock()
        defer { condition.unlock() }
        while waiting.isEmpty && finished == nil { condition.wait() }
        if waiting.isEmpty { return nil }
        condition.broadcast()
        return waiting.removeFirst()
    }

    /// Consumer: stops the producer (its next `put` throws) and waits until it finished.
    func cancel() {
        condition.lock()
        cancelled = true
        waiting.removeAll()
        condition.broadcast()
        while finished == nil { condition.wait() }
        condition.unlock()
    }

    /// The producer's result, once `take` returned nil (or after `cancel`).
    func result() throws -> Result {
        condition.lock()
        defer { condition.unlock() }
        while finished == nil { condition.wait() }
        return try finished!.get()
    }
}
