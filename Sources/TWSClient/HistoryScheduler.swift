import Foundation
import NIOCore
import TWSProtocol

/// Queues historical-data requests so that none breaks IB's rules (`HistoricalPacing`).
///
/// Bars of 30 seconds or less wait until the small-bar pacing admits them (60 in 10 minutes,
/// 6 per contract in 2 s, 15 s between identical requests), instead of failing with 162.
/// Bars of 1 minute and above are not paced that way (IB lifted those rules for them): they
/// go with up to `largeBarConcurrency` in flight at once. If TWS still answers with a pacing
/// error (162 pacing, 366, 420: another client shares the budget, or IB throttles), the
/// request waits and goes again, and the number of larger-bar requests in flight is halved,
/// growing back by one with each answer. Never more than IB's 50 are open at once.
struct HistoryScheduler {
    struct Job {
        var identity: String
        var contractKey: String
        var barSeconds: Int
        /// The caller waiting for it (`HistoryWaiter.id`): a cancelled caller's jobs leave the queue.
        var owner: ObjectIdentifier
        var start: () -> Void
        var isSmall: Bool { HistoricalPacing.isSmallBar(barSeconds) }
    }

    /// Larger-bar requests in flight at once, by default. IB's documentation ("Historical Data
    /// Limitations") caps open historical requests at 50 and advises "a much smaller number of
    /// requests pending at a time": a fifth of the cap keeps TWS and the data farm busy
    /// without queueing behind each other.
    static let defaultLargeBarConcurrency = 10
    /// How often one request is sent again after a pacing error before its caller gets it.
    static let maxPacingRetries = 5

    var pacing: HistoricalPacing
    var queue: [Job] = []
    var timer: Scheduled<Void>?
    /// Requests sent and not yet answered, of any bar size; and the most there ever were.
    private(set) var inFlight = 0
    private(set) var peakInFlight = 0
    /// Larger-bar requests in flight, and how many may be now (lowered by pacing errors).
    private(set) var largeInFlight = 0
    private(set) var largeLimit: Int
    let largeBarConcurrency: Int
    /// When the last long pacing wait said it would end (a wait is said once, not per wake-up).
    private var toldWaitUntil = 0.0
    /// Waits at least this long are said (`TWSClient.historyNotice`): a download that stops
    /// for minutes says what it waits for and until when.
    static let toldWait = 5.0

    init(window: Double, largeBarConcurrency: Int = Self.defaultLargeBarConcurrency) {
        pacing = HistoricalPacing()
        pacing.window = window
        pacing.margin = 0.5
        self.largeBarConcurrency = min(max(largeBarConcurrency, 1), HistoricalPacing.maximumOpen)
        largeLimit = self.largeBarConcurrency
    }

    mutating func enqueue(_ job: Job) { queue.append(job) }

    /// Takes `owner`'s jobs that have not gone yet off the queue (its caller stopped waiting).
    mutating func drop(owner: ObjectIdentifier) { queue.removeAll { $0.owner == owner } }

    /// Seconds until the small-bar requests queued here and `further` more could all have
    /// gone, by IB's pacing (0 when none are small).
    func secondsUntilSmallRequestsGo(further: Int) -> Double {
        let queued = queue.filter(\.isSmall).count
        let (total, overflow) = queued.addingReportingOverflow(max(further, 0))
        return pacing.secondsUntilAdmitted(further: overflow ? .max : total, now: Date().timeIntervalSince1970)
    }

    /// A request sent by `start` was answered (or failed); `paced`: with a pacing error.
    mutating func finished(small: Bool, paced: Bool) {
        inFlight -= 1
        if small { return }
        largeInFlight -= 1
        largeLimit = paced ? max(1, largeLimit / 2) : min(largeBarConcurrency, largeLimit + 1)
    }

    /// Starts every job that may go now; schedules a wake-up for the next one.
    mutating func resume(client: TWSClient) {
        timer?.cancel()
        timer = nil
        let now = Date().timeIntervalSince1970
        var earliest = Double.infinity
        var index = 0
        while index < queue.count, inFlight < HistoricalPacing.maximumOpen {
            let job = queue[index]
            if !job.isSmall {
                // Waits for an answer (which resumes the queue), not for a time.
                guard largeInFlight < largeLimit else {
                    index += 1
                    continue
                }
                queue.remove(at: index)
                largeInFlight += 1
                started(job)
                continue
            }
            let at = pacing.earliestAdmission(identity: job.identity, contractKey: job.contractKey, barSeconds: job.barSeconds, now: now)
            if at <= now, pacing.admit(identity: job.identity, contractKey: job.contractKey, barSeconds: job.barSeconds, now: now) == nil {
                queue.remove(at: index)
                started(job)
            } else {
                earliest = min(earliest, max(at, now + 0.01))
                index += 1
            }
        }
        if earliest < .infinity {
            if earliest - now >= Self.toldWait, abs(earliest - toldWaitUntil) > 1 {
                toldWaitUntil = earliest
                client.historyNotice?("waiting for IB's pacing window for bars of 30 s or less (60 requests in 10 min, 6 a contract "
                                      + "in 2 s, 15 s between identical ones): next request at \(Self.clock(earliest)) "
                                      + "(in \(Int((earliest - now).rounded(.up))) s); Ctrl-C stops, keeping what is stored")
            }
            timer = client.loop.scheduleTask(in: .milliseconds(Int64((earliest - now) * 1000) + 1)) {
                client.historyScheduler.resume(client: client)
            }
        }
    }

    /// `03:09:58`, the machine's local time of `epoch` (what the console's clock shows).
    static func clock(_ epoch: Double) -> String {
        var seconds = time_t(epoch.rounded(.up))
        var parts = tm()
        localtime_r(&seconds, &parts)
        return String(format: "%02d:%02d:%02d", parts.tm_hour, parts.tm_min, parts.tm_sec)
    }

    private mutating func started(_ job: Job) {
        inFlight += 1
        peakInFlight = max(peakInFlight, inFlight)
        job.start()
    }

    /// An IB answer that means "too fast": 162 for pacing, 366 (the query was dropped), 420
    /// (pacing of the data farm).
    static func isPacing(_ error: TWSError) -> Bool {
        guard case let .ib(code, message, _) = error else { return false }
        switch code {
        case 162: return IBErrorCategory.of(code: 162, message: message) == .pacing
        case 366, 420: return true
        default: return false
        }
    }
}

extension TWSClient {
    /// Historical-data requests for bars of 1 minute and above this client keeps in flight
    /// at once (small bars go by IB's small-bar pacing instead): see
    /// `HistoryScheduler.defaultLargeBarConcurrency` for why this many.
    public static let largeBarRequestsInFlight = HistoryScheduler.defaultLargeBarConcurrency

    /// Seconds until the small-bar (30 s or less) requests waiting here and `further` more
    /// could all have been sent under IB's pacing: the least time a download of small bars
    /// still takes, whatever the pace of the answers.
    public func secondsUntilSmallBarRequestsGo(further: Int) async -> Double {
        (try? await loop.submit { self.historyScheduler.secondsUntilSmallRequestsGo(further: further) }.get()) ?? 0
    }

    /// The most historical-data requests this client has had sent and unanswered at once (for
    /// monitoring, and for tests that the downloader keeps several in flight).
    public func historyRequestsInFlightPeak() async throws -> Int {
        try await loop.submit { self.historyScheduler.peakInFlight }.get()
    }

    /// Bars for `contract`, ending at `end` (empty: now) and covering `duration` (IB's
    /// spelling: "2 D", "3600 S", "1 Y"). Long spans are split into requests IB accepts
    /// and joined; every request waits for pacing rather than failing with 162.
    /// The most bars one `historicalBars` call returns (a year of 1-minute bars, RTH or not).
    public static let maxBarsPerCall = 600_000

    public func historicalBars(_ contract: Contract, end: String = "", duration: String, barSize: String,
                               whatToShow: String = "TRADES", useRTH: Bool = false) async throws -> [Bar]
    {
        guard let barSeconds = HistoricalSpan.barSeconds(barSize, strict: false) else {
            throw TWSError.invalidRequest("bar size '\(barSize)' is not one of IB's (e.g. '1 min', '5 mins', '1 hour', '1 day')")
        }
        guard let total = HistoricalSpan.durationSeconds(duration) else {
            throw TWSError.invalidRequest("duration '\(duration)' is not IB's form (e.g. '3600 S', '2 D', '1 W', '1 Y')")
        }
        // One call answers with at most `maxBarsPerCall` bars: 100 Y of 1-second bars was
        // 876,000 requests, a core busy for hours and the bars piling up in memory.
        guard total / barSeconds <= Self.maxBarsPerCall else {
            throw TWSError.invalidRequest("\(duration) of '\(barSize)' bars is \(total / barSeconds) bars; one call returns at most "
                                          + "\(Self.maxBarsPerCall): ask for a shorter duration or larger bars (`moonwire history` "
                                          + "downloads long spans into the bar store)")
        }
        // At most ~2,000 bars a request, and no more than IB serves at once for small bars.
        let chunk = barSeconds >= 86400 ? total : min(total, max(barSeconds * 2000, 3600))
        if chunk >= total {
            return try await historyRequest(contract, end: end, duration: duration, barSize: barSize, barSeconds: barSeconds,
                                            whatToShow: whatToShow, useRTH: useRTH)
        }
        // Newest part first; parts overlap at their edges, so a bar already held is dropped.
        var parts: [[Bar]] = []
        var seen = Set<String>()
        var chunkEnd = end.isEmpty ? Date() : (Self.parseDate(end) ?? Date())
        var covered = 0
        while covered < total {
            let seconds = min(chunk, total - covered)
            let endText = Self.utcText(chunkEnd)
            let part = try await historyRequest(contract, end: endText, duration: HistoricalSpan.durationText(seconds), barSize: barSize,
                                                barSeconds: barSeconds, whatToShow: whatToShow, useRTH: useRTH)
            parts.append(part.filter { seen.insert($0.date).inserted })
            covered += seconds
            chunkEnd = chunkEnd.addingTimeInterval(-Double(seconds))
        }
        return parts.reversed().flatMap { $0 }
    }

    private func historyRequest(_ contract: Contract, end: String, duration: String, barSize: String, barSeconds: Int, whatToShow: String,
                                useRTH: Bool) async throws -> [Bar]
    {
        let contractKey = "\(contract.conId):\(contract.symbol):\(contract.exchange):\(whatToShow)"
        let identity = "\(contractKey):\(end):\(duration):\(barSize):\(useRTH)"
        let promise = loop.makePromise(of: [Bar].self)
        let waiter = HistoryWaiter(promise: promise, loop: loop)
        let request = HistoryRequest(contract: contract, end: end, duration: duration, barSize: barSize, barSeconds: barSeconds,
                                     whatToShow: whatToShow, useRTH: useRTH, identity: identity, contractKey: contractKey)
        onLoop(failing: promise) {
            self.enqueueHistory(request, attempt: 0, waiter: waiter)
        }
        // A cancelled caller (Ctrl-C during a pacing wait of minutes) stops waiting at once: its
        // request leaves the queue; one already at TWS is answered into nothing.
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            self.loop.execute {
                self.historyScheduler.drop(owner: waiter.id)
                waiter.complete(.failure(CancellationError()))
                self.historyScheduler.resume(client: self)
            }
        }
    }

    /// A history request's caller, answered once: by TWS's answer or error, or by its own
    /// cancellation, whichever comes first. Its state lives on the client's loop
    /// (`NIOLoopBoundBox` checks every access).
    private struct HistoryWaiter: Sendable {
        let promise: EventLoopPromise<[Bar]>
        private let done: NIOLoopBoundBox<Bool>

        init(promise: EventLoopPromise<[Bar]>, loop: EventLoop) {
            self.promise = promise
            done = .makeBoxSendingValue(false, eventLoop: loop)
        }

        var id: ObjectIdentifier { ObjectIdentifier(done) }
        var isDone: Bool { done.value }

        func complete(_ result: Result<[Bar], any Error>) {
            guard !done.value else { return }
            done.value = true
            promise.completeWith(result)
        }
    }

    /// One reqHistoricalData as the scheduler queues it.
    private struct HistoryRequest: Sendable {
        var contract: Contract
        var end, duration, barSize: String
        var barSeconds: Int
        var whatToShow: String
        var useRTH: Bool
        var identity, contractKey: String
    }

    /// On the loop: queues `request` (a retry under an identity of its own, so that the
    /// identical-request rule counts the wait already done) and starts what may go.
    private func enqueueHistory(_ request: HistoryRequest, attempt: Int, waiter: HistoryWaiter) {
        guard !waiter.isDone else { return }  // cancelled while a retry waited
        let identity = attempt == 0 ? request.identity : request.identity + ":retry\(attempt):\(Date().timeIntervalSince1970)"
        historyScheduler.enqueue(HistoryScheduler.Job(identity: identity, contractKey: request.contractKey, barSeconds: request.barSeconds,
                                                      owner: waiter.id) {
            self.startHistory(request, attempt: attempt, waiter: waiter)
        })
        historyScheduler.resume(client: self)
    }

    /// On the loop, once the scheduler lets `request` go: sends it; its answer frees its place.
    private func startHistory(_ request: HistoryRequest, attempt: Int, waiter: HistoryWaiter) {
        let wire = ReqHistoricalData(reqId: 0, contract: request.contract, endDateTime: request.end, durationStr: request.duration,
                                     barSizeSetting: request.barSize, whatToShow: request.whatToShow, useRTH: request.useRTH, formatDate: 1)
        let small = HistoricalPacing.isSmallBar(request.barSeconds)
        let answer = start("reqHistoricalData", timeout: configuration.historicalTimeout, initial: [Bar](), make: { id in
            var sent = wire
            sent.reqId = id
            return .reqHistoricalData(sent)
        }) { bars, message in
            switch message {
            case let .historicalData(m):
                bars = m.bars
                return self.serverVersion < ServerVersion.historicalDataEnd
            case .historicalDataEnd: return true
            default: return false
            }
        } onError: { code, text, json in
            .ib(code: code, message: text, advancedOrderRejectJson: json)
        }
        answer.whenComplete { result in
            // On the loop: the answer's promise is the loop's.
            var paced = false, patient = false
            if case let .failure(error as TWSError) = result {
                paced = HistoryScheduler.isPacing(error)
                // A small-bar 162 is retried for as long as it takes (the budget frees up in
                // at most 10 minutes); other pacing answers a few times.
                patient = small && error.code == 162
            }
            self.historyScheduler.finished(small: small, paced: paced)
            switch result {
            case let .success(bars):
                waiter.complete(.success(bars))
            case let .failure(error) where paced && (patient || attempt < HistoryScheduler.maxPacingRetries):
                // TWS counted requests we did not see (another client), or throttles: wait, then go again.
                let said = "pacing error from TWS on \(request.identity) (\(error)); retrying in \(self.configuration.pacingRetryDelay) s"
                self.logger.warning("\(said)")
                self.historyNotice?(said)
                self.loop.scheduleTask(in: .milliseconds(Int64(self.configuration.pacingRetryDelay * 1000))) {
                    self.enqueueHistory(request, attempt: attempt + 1, waiter: waiter)
                }
            case let .failure(error):
                waiter.complete(.failure(error))
            }
            self.historyScheduler.resume(client: self)
        }
    }

    /// `YYYYMMDD-HH:MM:SS`, UTC: the end-date form that needs no time zone.
    static func utcText(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02d-%02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    static func parseDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HH:mm:ss"
        return formatter.date(from: text)
    }
}
