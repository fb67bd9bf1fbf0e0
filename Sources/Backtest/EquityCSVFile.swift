import Foundation
import MarketHistory

/// equity.csv, written while the backtest runs: the strategy's loop hands over each batch's
/// equity points, and their rows are formatted and written on a queue of their own (the other
/// core), so the file is done when the run is rather than after it. Into a file beside it,
/// renamed when complete (as an atomic write); in parts of a megabyte, never whole in memory.
public final class EquityCSVFile: @unchecked Sendable {
    // Sendable: every mutable field below is read and written only on `queue` (`append` hops
    // onto it, `finish` and `abandon` wait on it).
    private let queue = DispatchQueue(label: "moonwire.backtest.equity-csv")
    public let folder: URL
    private var partial: URL { folder.appendingPathComponent(".equity.csv.partial") }
    public var url: URL { folder.appendingPathComponent("equity.csv") }
    private var handle: FileHandle?
    private var csv = CSVByteWriter(header: BacktestReport.equityHeader)
    private var peak = -Double.infinity
    /// The points written so far, and the last one (to check that `finish`'s list continues them).
    private var written = 0
    private var last: EquityPoint?
    private var failure: (any Error)?
    static let part = 1 << 20

    public init(folder: URL) { self.folder = folder }

    /// The next points, in order (they continue those handed before).
    public func append(_ points: [EquityPoint]) {
        guard !points.isEmpty else { return }
        queue.async { self.write(points[...]) }
    }

    /// Writes what of `all` it was not handed, completes the file and names it equity.csv.
    /// Throws the first error met on the way (the file is then not made).
    public func finish(_ all: [EquityPoint]) throws {
        try queue.sync {
            // The points handed over are the start of `all` (the same run's): checked at the
            // seam; were they not, the file is made again from `all`.
            if written > all.count || (written > 0 && all[written - 1] != last) { restart() }
            write(all[written...])
            if let failure { throw failure }
            try open().write(contentsOf: csv.bytes)
            try handle?.close()
            handle = nil
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            try FileManager.default.moveItem(at: partial, to: url)
        }
    }

    /// Drops the partial file (the run failed: no report).
    public func abandon() {
        queue.sync {
            try? handle?.close()
            handle = nil
            try? FileManager.default.removeItem(at: partial)
        }
    }

    private func write(_ points: ArraySlice<EquityPoint>) {
        guard failure == nil, !points.isEmpty else { return }
        do {
            let file = try open()
            try BacktestReport.equityRows(points, peak: &peak, into: &csv, part: Self.part) { try file.write(contentsOf: $0) }
            written += points.count
            last = points.last
        } catch {
            failure = error
        }
    }

    private func open() throws -> FileHandle {
        if let handle { return handle }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: partial.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: partial.path])
        }
        let file = try FileHandle(forWritingTo: partial)
        handle = file
        return file
    }

    private func restart() {
        try? handle?.close()
        handle = nil
        csv = CSVByteWriter(header: BacktestReport.equityHeader)
        peak = -.infinity
        written = 0
        last = nil
        failure = nil
    }
}
