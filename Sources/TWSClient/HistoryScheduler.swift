import Foundation
import NIOCore
import TWSProtocol

/// Queues historical-data requests so that none breaks IB's pacing rules: a request waits
/// until `HistoricalPacing` admits it, instead of failing with 162. If TWS still answers
/// 162 (another client shares the budget), the request waits and goes again.
struct HistoryScheduler {
    struct Job {
        var identity: String
        var contractKey: String
        var start: () -> Void
    }

    var pacing: HistoricalPacing
    var queue: [Job] = []
    var timer: Scheduled<Void>?

    init(window: Double) {
        pacing = HistoricalPacing()
        pacing.window = window
        pacing.margin = 0.5
    }

    mutating func enqueue(_ job: Job) { queue.append(job) }

    /// Starts every job that may go now; schedules a wake-up for the next one.
    mutating func resume(client: TWSClient) {
        timer?.cancel()
        timer = nil
        let now = Date().timeIntervalSince1970
        var earliest = Double.infinity
        var index = 0
        while index < queue.count {
            let job = queue[index]
            let at = pacing.earliestAdmission(identity: job.identity, contractKey: job.contractKey, now: now)
            if at <= now, pacing.admit(identity: job.identity, contractKey: job.contractKey, now: now) == nil {
                queue.remove(at: index)
                job.start()
            } else {
                earliest = min(earliest, max(at, now + 0.01))
                index += 1
            }
        }
        if earliest < .infinity {
            timer = client.loop.scheduleTask(in: .milliseconds(Int64((earliest - now) * 1000) + 1)) {
                client.historyScheduler.resume(client: client)
            }
        }
    }
}

extension TWSClient {
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
            return try await historyRequest(contract, end: end, duration: duration, barSize: barSize, whatToShow: whatToShow, useRTH: useRTH)
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
                                                whatToShow: whatToShow, useRTH: useRTH)
            parts.append(part.filter { seen.insert($0.date).inserted })
            covered += seconds
            chunkEnd = chunkEnd.addingTimeInterval(-Double(seconds))
        }
        return parts.reversed().flatMap { $0 }
    }

    private func historyRequest(_ contract: Contract, end: String, duration: String, barSize: String, whatToShow: String,
                                useRTH: Bool) async throws -> [Bar]
    {
        let contractKey = "\(contract.conId):\(contract.symbol):\(contract.exchange):\(whatToShow)"
        let identity = "\(contractKey):\(end):\(duration):\(barSize):\(useRTH)"
        let promise = loop.makePromise(of: [Bar].self)
        onLoop(failing: promise) {
            self.historyScheduler.enqueue(HistoryScheduler.Job(identity: identity, contractKey: contractKey) {
                self.startHistory(contract, end: end, duration: duration, barSize: barSize, whatToShow: whatToShow, useRTH: useRTH,
                                  identity: identity, contractKey: contractKey, promise: promise)
            })
            self.historyScheduler.resume(client: self)
        }
        return try await promise.futureResult.get()
    }

    private func startHistory(_ contract: Contract, end: String, duration: String, barSize: String, whatToShow: String, useRTH: Bool,
                              identity: String, contractKey: String, promise: EventLoopPromise<[Bar]>)
    {
        let request = ReqHistoricalData(reqId: 0, contract: contract, endDateTime: end, durationStr: duration, barSizeSetting: barSize,
                                        whatToShow: whatToShow, useRTH: useRTH, formatDate: 1)
        Task {
            do {
                let bars = try await self.perform("reqHistoricalData", timeout: self.configuration.historicalTimeout, initial: [Bar](),
                                                  make: { id in
                                                      var wire = request
                                                      wire.reqId = id
                                                      return .reqHistoricalData(wire)
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
                promise.succeed(bars)
            } catch let error as TWSError where error.code == 162 && IBErrorCategory.of(code: 162, message: "\(error)") == .pacing {
                // TWS counted requests we did not see (another client): wait, then go again.
                self.logger.warning("pacing violation from TWS on \(identity); retrying in \(self.configuration.pacingRetryDelay) s")
                self.loop.scheduleTask(in: .milliseconds(Int64(self.configuration.pacingRetryDelay * 1000))) {
                    self.historyScheduler.enqueue(HistoryScheduler.Job(identity: identity + ":retry\(Date().timeIntervalSince1970)",
                                                                       contractKey: contractKey) {
                        self.startHistory(contract, end: end, duration: duration, barSize: barSize, whatToShow: whatToShow, useRTH: useRTH,
                                          identity: identity, contractKey: contractKey, promise: promise)
                    })
                    self.historyScheduler.resume(client: self)
                }
            } catch {
                promise.fail(error)
            }
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
