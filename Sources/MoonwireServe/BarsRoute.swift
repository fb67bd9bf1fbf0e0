import Foundation
import Hummingbird
import MarketHistory
import Moonwire
import StrategyHost
import TWSProtocol

/// `GET /api/bars/SYMBOL?bar=1+min&from=...&to=...`: from the bar store when it covers the
/// range, else downloaded from TWS (the downloader's pacing, as `moonwire history`) into it.
enum BarsRoute {
    /// No answer larger: a year of 1-minute bars is about 100,000 in regular hours.
    static let maxBars: Int64 = 100_000

    static func bars(_ symbol: String, request: Request, model: ServeModel, hasToken: Bool) async throws -> JSONText {
        // `1+min` as a form would send it, or `1%20min`.
        let bar = (request.uri.queryParameters.get("bar").map { String($0) } ?? "1 min").replacingOccurrences(of: "+", with: " ")
        guard let seconds = HistoricalSpan.barSeconds(bar), HistoryPlan.maxSpan(barSize: bar) != nil else {
            throw APIError.badRequest("bar=\(bar.prefix(40)) is not one of IB's bar sizes (1 secs, 5 secs, 1 min, 5 mins, 15 mins, 1 hour, 1 day, ...)")
        }
        let what = (request.uri.queryParameters.get("what") ?? "TRADES").uppercased()
        guard ["TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK"].contains(what) else {
            throw APIError.badRequest("what=\(what.prefix(40)) is not TRADES, MIDPOINT, BID, ASK or BID_ASK")
        }
        let now = Int64(Date().timeIntervalSince1970)
        guard let fromText = request.uri.queryParameters.get("from") else { throw APIError.badRequest("from is required (YYYY-MM-DD, UTC)") }
        let start = try time(String(fromText), "from")
        let end = try request.uri.queryParameters.get("to").map { try time(String($0), "to") } ?? now
        guard end > start else { throw APIError.badRequest("to (\(UTCTime.iso(end))) must come after from (\(UTCTime.iso(start)))") }
        guard (end - start) / Int64(seconds) <= maxBars else {
            throw APIError.badRequest("from \(UTCTime.day(start)) to \(UTCTime.day(end)) is more than \(maxBars) bars of \(bar): ask for a shorter range or a larger bar")
        }
        let spec: InstrumentSpec
        do { spec = try InstrumentSpec.parse(symbol) } catch { throw APIError.badRequest("'\(symbol.prefix(60))' is not an instrument: \(error)") }
        guard let store = model.settings.barStore else {
            throw APIError(.serviceUnavailable, "no_store", "no bar store: give history.store in the config or --store")
        }
        let series = BarSeries(instrument: spec.key, barSize: bar, what: what)
        // Only whole bars: the one still forming would be stored as if final.
        let lastWhole = now - now % Int64(seconds)
        guard start < lastWhole else { throw APIError.badRequest("no whole \(bar) bar from \(UTCTime.iso(start)) yet: the first ends at \(UTCTime.iso(start + Int64(seconds)))") }
        let span = TimeSpan(start, min(end, lastWhole))
        var source = "store"
        let covered = try await store.covered(series)
        if !TimeSpan.missing(span, covered: covered).isEmpty {
            // A download spends the connection's pacing budget (the strategies' too) and grows
            // the store: not for anyone who can reach the port, only for the token's holder.
            guard hasToken else {
                throw APIError(.unauthorized, "unauthorized", "the store does not hold \(spec.key)'s \(bar) bars for this range; "
                               + "downloading them from TWS needs the server's token (Authorization: Bearer TOKEN)")
            }
            source = "tws"
            let resolved: ResolvedInstrument
            do {
                resolved = try await spec.resolve(with: model.runtime.client)
            } catch {
                throw APIError.notFound("TWS does not know \(spec.key): \(error)")
            }
            let downloader = HistoryDownloader(client: model.runtime.client, store: store)
            let report = try await downloader.download(series, contract: spec.contract.secType == "CONTFUT" ? spec.contract : resolved.contract, span: span)
            if let failure = report.failed.first {
                throw APIError(.badGateway, "tws", "TWS did not give \(spec.key)'s \(bar) bars: \(failure.reason)")
            }
        }
        let bars = try await store.bars(series, in: span)
        return .object([
            ("symbol", .string(spec.key)), ("bar", .string(bar)), ("what", .string(what)), ("source", .string(source)),
            ("bars", .array(bars.map { bar in
                .object([("time", RecordJSON.time(Double(bar.time))), ("open", .number(bar.open)), ("high", .number(bar.high)),
                         ("low", .number(bar.low)), ("close", .number(bar.close)), ("volume", .number(bar.volume))])
            })),
        ])
    }

    /// `YYYY-MM-DD` or `YYYY-MM-DD HH:MM[:SS]` (UTC), 1900 to 2199.
    static func time(_ text: String, _ name: String) throws -> Int64 {
        guard let value = HistoryPlan.parseDay(text), (-2_208_988_800..<7_258_118_400).contains(value) else {
            throw APIError.badRequest("\(name)=\(text.prefix(40)) is not a date from 1900-01-01 to 2199-12-31 (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS, UTC)")
        }
        return value
    }
}
