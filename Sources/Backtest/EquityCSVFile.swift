import Foundation
import MarketHistory
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// equity.csv, written while the backtest runs: the strategy's loop hands over each batch's
/// equity points, and their rows are formatted and written on a queue of their own (the other
/// core), so the file is done when the run is rather than after it. In parts of a megabyte,
/// never whole in memory, into a file of this run's own beside it (another run into the same
/// folder has its own), which replaces equity.csv in one step when complete.
public final class EquityCSVFile: @unchecked Sendable {
    // Sendable: every mutable field below is read and written only on `queue` (`append` hops
    // onto it; `prepare`, `failure`, `finish` and `abandon` wait on it).
    private let queue = DispatchQueue(label: "moonwire.backtest.equity-csv")
    public let folder: URL
    private let partial: URL
    public var url: URL { folder.appendingPathComponent("equity.csv") }
    private var handle: FileHandle?
    private var csv = CSVByteWriter(header: BacktestReport.equityHeader)
    private var peak = -Double.infinity
    /// The points written so far, and the last one (to check that `finish`'s list continues them).
    private var written = 0
    private var last: EquityPoint?
    private var problem: BacktestOutputError? {
        didSet { problemSeen.withLockedValue { $0 = problem } }
    }
    /// `problem`, readable without waiting for the queue.
    private let problemSeen = NIOLockedValueBox<BacktestOutputError?>(nil)
    static let part = 1 << 20

    public init(folder: URL) {
        self.folder = folder
        partial = PartialFile.url(of: "equity.csv", in: folder)
    }

    /// Makes the folder and this run's file now, so a folder that cannot be written is said
    /// before the run, not after it.
    public func prepare() throws {
        try queue.sync { _ = try openFile() }
    }

    /// The first error met writing (the run stops there: the report could not be complete),
    /// once every row handed over is written.
    public var failure: BacktestOutputError? { queue.sync { problem } }

    /// The first error met so far, without waiting for the rows handed over last: a run asks
    /// after every batch (waiting each time made the run wait for the writing, a quarter of a
    /// million-bar run), so an error stops it a batch later; it asks `failure` at its end.
    public var failureSoFar: BacktestOutputError? { problemSeen.withLockedValue { $0 } }

    /// The next points, in order (they continue those handed before).
    public func append(_ points: [EquityPoint]) {
        guard !points.isEmpty else { return }
        queue.async { self.write(points[...]) }
    }

    /// Writes what of `all` it was not handed, completes the file and makes it equity.csv.
    /// Throws the first error met on the way (equity.csv is then left as it was).
    public func finish(_ all: [EquityPoint]) throws {
        try complete(all)
        try commit()
    }

    /// Writes what of `all` it was not handed and completes this run's file (not yet
    /// equity.csv: `commit` names it, once the rest of the report is written too).
    func complete(_ all: [EquityPoint]) throws {
        try queue.sync {
            // The points handed over are the start of `all` (the same run's): checked at the
            // seam; were they not, the file is made again from `all`.
            if written > all.count || (written > 0 && all[written - 1] != last) { restart() }
            write(all[written...])
            if let problem { throw problem }
            do {
                try openFile().write(contentsOf: csv.bytes)
                try handle?.close()
                handle = nil
            } catch {
                throw BacktestOutputError(partial, error)
            }
        }
    }

    /// Makes the completed file equity.csv, in one step.
    func commit() throws {
        try queue.sync {
            guard rename(partial.path, url.path) == 0 else { throw BacktestOutputError(url, errno: errno) }
        }
    }

    /// Drops this run's file (the run failed: no report).
    public func abandon() {
        queue.sync {
            try? handle?.close()
            handle = nil
            unlink(partial.path)
        }
    }

    private func write(_ points: ArraySlice<EquityPoint>) {
        guard problem == nil, !points.isEmpty else { return }
        do {
            let file = try openFile()
            do {
                try BacktestReport.equityRows(points, peak: &peak, into: &csv, part: Self.part) { try file.write(contentsOf: $0) }
            } catch {
                throw BacktestOutputError(partial, error)
            }
            written += points.count
            last = points.last
        } catch {
            problem = error as? BacktestOutputError ?? BacktestOutputError(partial, error)
        }
    }

    private func openFile() throws(BacktestOutputError) -> FileHandle {
        if let handle { return handle }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw BacktestOutputError(folder, error)
        }
        PartialFile.removeAbandoned(in: folder)
        let descriptor = open(partial.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw BacktestOutputError(partial, errno: errno) }
        let file = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
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
        problem = nil
    }
}

/// The file a report's file is written into before it is named (`.trades.csv.<pid>-<n>.partial`):
/// this run's own, so another run into the same folder never writes or removes it.
public enum PartialFile {
    static let names = ["equity.csv", "summary.txt", "trades.csv", "fills.csv", "report.html", "log.txt"]
    static let suffix = ".partial"

    /// This run's file for `name` in `folder`, named `name` once the whole report is written.
    public static func url(of name: String, in folder: URL) -> URL {
        folder.appendingPathComponent(".\(name).\(getpid())-\(UInt32.random(in: 0 ... .max))\(suffix)")
    }

    /// The partial files of runs that were killed before they could drop theirs (their process
    /// is gone), in `folder`.
    static func removeAbandoned(in folder: URL) {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for entry in entries where entry.hasSuffix(suffix) {
            guard let name = names.first(where: { entry.hasPrefix(".\($0).") }) else { continue }
            let middle = entry.dropFirst(name.count + 2).dropLast(suffix.count)
            guard let pid = middle.split(separator: "-").first.flatMap({ Int32($0) }), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(folder.appendingPathComponent(entry).path) }
        }
    }
}

/// A report file that could not be written: the path and why, in words (`permission
/// denied`, `no space left on device`), not a Foundation error's dump.
public struct BacktestOutputError: Error, CustomStringConvertible {
    public let description: String

    init(_ path: URL, errno code: Int32) {
        description = "\(path.path): \(String(cString: strerror(code)).lowercased())"
    }

    init(_ path: URL, _ error: any Error) {
        description = "\(path.path): \(Self.reason(error))"
    }

    /// `path: reason` of an error met writing into `folder`: the file it names when it names one.
    public static func describe(_ error: any Error, in folder: URL) -> String {
        if let output = error as? BacktestOutputError { return output.description }
        let path = (error as? CocoaError)?.filePath ?? folder.path
        return "\(path): \(reason(error))"
    }

    /// The words of an error: its POSIX reason when it has one underneath.
    public static func reason(_ error: any Error) -> String {
        if let output = error as? BacktestOutputError { return output.description }
        let bridged = error as NSError
        if bridged.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(bridged.code))).lowercased() }
        if let underlying = bridged.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code))).lowercased()
        }
        if let cocoa = error as? CocoaError {
            switch cocoa.code {
            case .fileWriteNoPermission, .fileReadNoPermission: return "permission denied"
            case .fileWriteOutOfSpace: return "no space left on device"
            case .fileWriteVolumeReadOnly: return "read-only file system"
            case .fileWriteFileExists: return "a file is in the way"
            default: break
            }
        }
        return bridged.localizedDescription
    }
}
