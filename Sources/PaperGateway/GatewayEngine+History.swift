import Foundation
import TWSProtocol

extension GatewayEngine {
    static let historyTypes: Set<String> = ["TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK", "ADJUSTED_LAST"]

    func requestHistory(_ session: GatewaySession, _ request: ReqHistoricalData) {
        guard let instrument = resolve(request.contract) else {
            session.sendError(request.reqId, 200, Self.noSecurityDefinition)
            return
        }
        guard let barSeconds = BarHistory.barSeconds(request.barSizeSetting) else {
            session.sendError(request.reqId, 321, "Error validating request.-'bP' : cause - Historical data bar size setting '\(request.barSizeSetting)' is invalid.")
            return
        }
        guard var durationSeconds = BarHistory.durationSeconds(request.durationStr) else {
            session.sendError(request.reqId, 321, "Error validating request.-'bP' : cause - Historical data duration '\(request.durationStr)' is invalid (e.g. '3600 S', '1 D', '2 W').")
            return
        }
        guard Self.historyTypes.contains(request.whatToShow) else {
            session.sendError(request.reqId, 321, "Error validating request.-'bP' : cause - Invalid whatToShow '\(request.whatToShow)'.")
            return
        }
        if request.keepUpToDate && !request.endDateTime.isEmpty {
            session.sendError(request.reqId, 321, "Error validating request.-'bP' : cause - End date not supported with live updates (keepUpToDate needs an empty endDateTime).")
            return
        }
        let asked = Int(now)
        var end = asked
        if !request.endDateTime.isEmpty {
            guard let date = BarHistory.parseEndDate(request.endDateTime, defaultZone: zone) else {
                session.sendError(request.reqId, 10314, "End Date/Time: The date, time, or time-zone entered is invalid. The correct format is yyyymmdd hh:mm:ss xx/xxxx where yyyymmdd and xx/xxxx are optional. E.g.: 20031126 15:59:00 US/Eastern")
                return
            }
            end = min(Int(date.timeIntervalSince1970), asked)
        }
        if config.pacing.historical {
            let contractKey = "\(instrument.symbol):\(request.contract.exchange):\(request.whatToShow)"
            let identity = "\(contractKey):\(request.endDateTime):\(request.durationStr):\(request.barSizeSetting):\(request.useRTH):\(request.keepUpToDate)"
            if let violation = historicalPacing.admit(identity: identity, contractKey: contractKey, now: Date().timeIntervalSince1970) {
                session.sendError(request.reqId, 162, violation)
                return
            }
        }
        // IB's "N D" is N trading days: asked on a Sunday, "1 D" is Friday's session. At least
        // N calendar days too, so a window a download cuts by the clock is covered whole.
        if config.replay?.bars[instrument.symbol] == nil, let days = Self.tradingDays(in: request.durationStr),
           let start = TradingHours.of(instrument).start(ofTradingDays: days, before: Int64(end), regularOnly: request.useRTH)
        {
            durationSeconds = max(durationSeconds, end - Int(start))
        }
        let price = market.quote(symbol: instrument.symbol)?.last ?? instrument.startPrice
        var bars: [Bar]
        do {
            if let replay = config.replay, replay.bars[instrument.symbol] != nil {
                guard barSeconds % replay.barSeconds == 0 else {
                    session.sendError(request.reqId, 162, "Historical Market Data Service error message:the replay has \(replay.barSeconds) s bars; "
                                          + "ask for a multiple of them")
                    return
                }
                bars = BarHistory.replayed(replay, symbol: instrument.symbol, barSeconds: barSeconds, durationSeconds: durationSeconds,
                                           end: end, formatDate: request.formatDate, zone: zone)
            } else {
                // Every request cuts its bars from the one path through the price now: a day asked
                // for on its own meets the days before and after it.
                bars = try BarHistory.bars(instrument: instrument, seed: config.seed, barSeconds: barSeconds, durationSeconds: durationSeconds,
                                           end: end, price: price, now: asked, useRTH: request.useRTH, whatToShow: request.whatToShow,
                                           formatDate: request.formatDate, zone: zone)
            }
        } catch let error as BarHistory.RequestError {
            session.sendError(request.reqId, error.code, error.message)
            return
        } catch {
            session.sendError(request.reqId, 162, "Historical Market Data Service error message:\(error)")
            return
        }
        let startText = BarHistory.format(end - durationSeconds, zone: zone)
        let endText = BarHistory.format(end, zone: zone)
        session.send(.historicalData(HistoricalData(reqId: request.reqId, startDate: startText, endDate: endText, bars: bars)))
        if session.serverVersion >= ServerVersion.historicalDataEnd {
            session.send(.historicalDataEnd(HistoricalDataEnd(reqId: request.reqId, startDate: startText, endDate: endText)))
        }
        if request.keepUpToDate {
            // Live updates follow the live market, which trades at any hour: when the history
            // ends in an earlier session (a night, a weekend), the bar under way starts afresh.
            let start = (end - 1) / barSeconds * barSeconds
            let daily = barSeconds >= 86400
            let date = request.formatDate == 2 && !daily ? String(start) : BarHistory.format(start, zone: zone, dateOnly: daily)
            let last = bars.last.flatMap { $0.date == date ? $0 : nil }
                ?? Bar(date: date, open: price, high: price, low: price, close: price, volume: TWSDecimal(0), wap: TWSDecimal(approximating: price),
                       barCount: 0)
            session.liveHistory[request.reqId] = GatewaySession.LiveHistory(
                symbol: instrument.symbol, barSeconds: barSeconds, whatToShow: request.whatToShow, formatDate: request.formatDate,
                bar: last, barStart: start)
            historicalPacing.opened("\(session.id):\(request.reqId)")
        }
    }

    /// N of a duration in days ("3 D"), nil for other units.
    static func tradingDays(in durationStr: String) -> Int? {
        let parts = durationStr.uppercased().split(separator: " ")
        guard parts.count == 2, parts[1] == "D", let days = Int(parts[0]), days > 0, days <= 36_500 else { return nil }
        return days
    }

    func cancelHistory(_ session: GatewaySession, _ reqId: Int) {
        session.liveHistory[reqId] = nil
        historicalPacing.closed("\(session.id):\(reqId)")
    }

    /// keepUpToDate: the forming bar follows the price; a new bar starts on its boundary.
    func publishLiveHistory() {
        for session in clients where !session.stalled {
            for reqId in session.liveHistory.keys.sorted() {
                guard var live = session.liveHistory[reqId], let quote = market.quote(symbol: live.symbol) else { continue }
                // On the tick as the double nearest its decimal (the simulator's ticks × tick size is a hair off).
                let price = live.whatToShow == "TRADES" ? (market.instrument(symbol: live.symbol).map { BarHistory.onTick(quote.last, $0) } ?? quote.last)
                    : quote.mid
                let start = Int(now) / live.barSeconds * live.barSeconds
                if start > live.barStart {
                    live.barStart = start
                    let daily = live.barSeconds >= 86400
                    let date = live.formatDate == 2 && !daily ? String(start) : BarHistory.format(start, zone: zone, dateOnly: daily)
                    live.bar = Bar(date: date, open: price, high: price, low: price, close: price, volume: TWSDecimal(0),
                                   wap: TWSDecimal(approximating: price), barCount: 0)
                } else {
                    live.bar.high = max(live.bar.high, price)
                    live.bar.low = min(live.bar.low, price)
                    live.bar.close = price
                }
                if live.whatToShow == "TRADES" {
                    live.bar.volume = (live.bar.volume ?? TWSDecimal(0)) + TWSDecimal(quote.lastSize)
                    live.bar.barCount += 1
                }
                session.liveHistory[reqId] = live
                session.send(.historicalDataUpdate(HistoricalDataUpdate(reqId: reqId, bar: live.bar)))
            }
        }
    }

    /// reqHeadTimeStamp: where the simulated history of an instrument starts. Stocks, forex and
    /// indexes from 2005-01-03 14:30 UTC; a future a year before its expiry; an option nine months.
    func requestHeadTimestamp(_ session: GatewaySession, _ request: ReqHeadTimestamp) {
        guard let instrument = resolve(request.contract) else {
            session.sendError(request.reqId, 200, unresolved(request.contract))
            return
        }
        let head = Self.headTimestamp(of: instrument)
        let text = request.formatDate == 2 ? String(head) : HistoryText.utc(head)
        session.send(.headTimestamp(HeadTimestamp(reqId: request.reqId, headTimestamp: text)))
    }

    static func headTimestamp(of instrument: Instrument) -> Int {
        let listed = 1_104_762_600  // 2005-01-03 14:30 UTC
        guard !instrument.expiry.isEmpty, let expiry = HistoryText.day(instrument.expiry) else { return listed }
        return max(listed, expiry - (instrument.secType == "FUT" ? 365 : 270) * 86_400)
    }
}

/// IB's spellings of head timestamps: `yyyyMMdd-HH:mm:ss` in UTC.
enum HistoryText {
    static func utc(_ epoch: Int) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HH:mm:ss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(epoch)))
    }

    static func day(_ text: String) -> Int? {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return formatter.date(from: text).map { Int($0.timeIntervalSince1970) }
    }
}
