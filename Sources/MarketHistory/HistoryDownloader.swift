import Foundation
import TWSClient
import TWSProtocol

/// Downloads a series into a store: asks only for what the store does not cover, window by
/// window through the client, several windows at once (the client's scheduler keeps every
/// pacing rule: small bars by IB's small-bar pacing, larger ones a bounded number in flight,
/// so TWS never answers 162 for pacing), retries windows that time out or are cancelled,
/// records windows with no data as covered, and stores each window as it comes (an
/// interrupted download keeps them).
public struct HistoryDownloader: Sendable {
    public struct Progress: Sendable {
        public var series: BarSeries
        public var requestsDone: Int
        public var requestsTotal: Int
        public var bars: Int
        public var seconds: Double
        /// The least time the requests left can take by IB's pacing of small bars (60 in 10
        /// minutes), known before the waits come; 0 for larger bars.
        public var pacingSeconds: Double = 0
        /// Seconds left: at the pace so far, and no less than the pacing's known waits.
        public var eta: Double? {
            let pace = requestsDone > 0 ? seconds / Double(requestsDone) * Double(requestsTotal - requestsDone) : nil
            guard pacingSeconds > 0 else { return pace }
            return max(pace ?? 0, pacingSeconds)
        }
        /// Whether IB's pacing, not the pace of the answers, sets the time left.
        public var pacingBound: Bool { pacingSeconds > 0 && pacingSeconds >= (eta ?? 0) }
    }

    public struct Report: Sendable {
        public var series: BarSeries
        public var requests = 0
        public var bars = 0
        /// Windows TWS had no bars for (recorded: not asked again).
        public var noData: [TimeSpan] = []
        /// Windows that failed after the retries, and why (asked again next time).
        public var failed: [(span: TimeSpan, reason: String)] = []
        /// Already in the store before this download.
        public var alreadyCovered = false
        /// Where TWS's data starts, when that is after the span asked for.
        public var headTimestamp: Int64?
    }

    public let client: TWSClient
    public let store: any BarStore
    public var retries = 3
    public var retryDelay = 1.0
    /// Told when a window is asked again (a timeout, a lost connection, a query TWS cancelled),
    /// so a download that waits says why.
    public var notice: @Sendable (String) -> Void = { _ in }
    /// How a wait before asking again is made (a test records the waits asked for).
    public var pause: @Sendable (Double) async throws -> Void = { try await Task.sleep(for: .seconds($0)) }

    public init(client: TWSClient, store: any BarStore) {
        self.client = client
        self.store = store
    }

    public func download(_ series: BarSeries, contract: Contract, span: TimeSpan, useRTH: Bool = false,
                         progress: @Sendable (Progress) -> Void = { _ in }) async throws -> Report
    {
        var report = Report(series: series)
        guard HistoryPlan.maxSpan(barSize: series.barSize) != nil else {
            throw TWSError.invalidRequest("bar size '\(series.barSize)' is not one of IB's (1 secs ... 1 month: e.g. '1 min', '5 mins', '1 hour', '1 day')")
        }
        // Only whole bars: a window ending now would bring the bar still forming (stored as if
        // final, never corrected) and, not ending on a bar's edge, lose the first bar.
        var span = span
        if let seconds = HistoricalSpan.barSeconds(series.barSize) {
            let now = Int64(Date().timeIntervalSince1970)
            span = TimeSpan(span.start, min(span.end, now - now % Int64(seconds)))
            guard span.end > span.start else { return report }
        }
        var missing = TimeSpan.missing(span, covered: try await store.covered(series))
        // Nothing before the earliest data point TWS has: recorded as no data, never asked.
        if !missing.isEmpty, let head = try? await client.headTimestamp(contract, whatToShow: series.what, useRTH: useRTH), head > span.start {
            report.headTimestamp = head
            let before = TimeSpan(span.start, min(head, span.end))
            if missing.contains(where: { $0.start < before.end }) {
                try await store.write([], of: series, covering: before)
                report.noData.append(before)
            }
            missing = TimeSpan.missing(span, covered: try await store.covered(series))
        }
        let windows = HistoryPlan.windows(for: missing, barSize: series.barSize)
        report.alreadyCovered = windows.isEmpty && report.noData.isEmpty
        let started = Date()
        let small = HistoricalPacing.isSmallBar(HistoricalSpan.barSeconds(series.barSize))
        // Several windows at once: the client's scheduler decides when each may go (small
        // bars by IB's small-bar pacing, larger ones a bounded number in flight).
        let width = TWSClient.largeBarRequestsInFlight + 2
        try await withThrowingTaskGroup(of: (TimeSpan, WindowOutcome).self) { group in
            var next = 0
            func add() {
                guard next < windows.count else { return }
                let window = windows[next]
                next += 1
                group.addTask { (window, try await fetch(window, series: series, contract: contract, useRTH: useRTH)) }
            }
            for _ in 0..<width { add() }
            var done = 0
            while let (window, outcome) = try await group.next() {
                done += 1
                switch outcome {
                case let .bars(count):
                    report.requests += 1
                    report.bars += count
                    if count == 0 { report.noData.append(window) }
                case .noData:
                    report.requests += 1
                    report.noData.append(window)
                case let .failed(reason):
                    report.requests += 1
                    report.failed.append((window, reason))
                }
                // The windows not yet handed to the client, and those queued in it, by pacing.
                let pacing = small ? await client.secondsUntilSmallBarRequestsGo(further: windows.count - next) : 0
                progress(Progress(series: series, requestsDone: done, requestsTotal: windows.count, bars: report.bars,
                                  seconds: Date().timeIntervalSince(started), pacingSeconds: pacing))
                add()
            }
        }
        // In the order asked (newest first), whatever order the answers came in.
        report.noData.sort { $0.end > $1.end }
        report.failed.sort { $0.span.end > $1.span.end }
        return report
    }

    /// What became of one window.
    enum WindowOutcome: Sendable {
        case bars(Int)
        case noData
        case failed(String)
    }

    /// One window: asked (again after a timeout or a cancel, up to `retries` times), stored.
    private func fetch(_ window: TimeSpan, series: BarSeries, contract: Contract, useRTH: Bool) async throws -> WindowOutcome {
        var attempt = 0
        while true {
            try Task.checkCancellation()
            do {
                let bars = try await client.historicalBars(contract, end: HistoryPlan.endText(window.end), duration: HistoryPlan.duration(of: window),
                                                           barSize: series.barSize, whatToShow: series.what, useRTH: useRTH)
                var dates = HistoryPlan.BarDateReader()
                let stored = bars.compactMap { bar -> StoredBar? in
                    guard let time = dates.epoch(bar.date), time >= window.start, time < window.end else { return nil }
                    return StoredBar(time: time, open: bar.open, high: bar.high, low: bar.low, close: bar.close,
                                     volume: bar.volume?.doubleValue, wap: bar.wap?.doubleValue, count: bar.barCount)
                }
                try await store.write(stored, of: series, covering: window)
                return .bars(stored.count)
            } catch let error as TWSError where Self.isNoData(error) {
                try await store.write([], of: series, covering: window)
                return .noData
            } catch let error as TWSError where Self.isRetryable(error) && attempt < retries {
                attempt += 1
                let delay = retryDelay * Double(1 << (attempt - 1))
                notice("\(series.instrument): \(series.barSize) bars to \(UTCTime.iso(window.end, seconds: true)): \(error); "
                       + "asking again in \(StoredInstrument.number(delay)) s (retry \(attempt) of \(retries))")
                try await pause(delay)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                return .failed("\(error)")
            }
        }
    }

    /// 162 "HMDS query returned no data": the window has no bars (before the listing, a holiday).
    static func isNoData(_ error: TWSError) -> Bool {
        guard case let .ib(code, message, _) = error else { return false }
        return code == 162 && message.lowercased().contains("no data")
    }

    /// A timeout, a lost connection, or a query TWS cancelled: worth asking again.
    static func isRetryable(_ error: TWSError) -> Bool {
        switch error {
        case .timeout, .connectionLost, .notConnected: return true
        case let .ib(code, message, _): return code == 162 && message.lowercased().contains("cancel") || code == 366
        default: return false
        }
    }
}
