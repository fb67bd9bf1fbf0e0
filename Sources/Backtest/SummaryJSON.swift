import Foundation
import MarketHistory

/// summary.json: the figures (`BacktestMetrics`, at the top level as before) and, under `run`,
/// what produced them, so a summary read later (or compared with another) says which strategy,
/// instruments, span, params and fill rules it is of.
struct SummaryJSON: Encodable {
    let metrics: BacktestMetrics
    let run: RunDescription

    private enum Keys: String, CodingKey { case run }

    func encode(to encoder: any Encoder) throws {
        try metrics.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(run, forKey: .run)
    }
}

/// What a backtest ran: the command's choices, as given (`from`/`to` as `--from`/`--to`: the
/// first day and the day after the last, UTC).
struct RunDescription: Encodable {
    let strategy: String
    let name: String
    let instruments: [String]
    let bar: String
    let what: String
    let from: String
    let to: String
    /// The `--param`s: the fixed ones and this run's combination of a sweep.
    let params: [String: String]
    let fills: String
    let slippageTicks: Int
    let commission: String
    let initialCash: Double
    let baseCurrency: String

    init(_ result: BacktestResult, data: BacktestData) {
        let setup = data.setup
        strategy = setup.strategyPath
        name = setup.name
        instruments = data.series.map(\.key)
        bar = setup.barSize
        what = setup.what
        from = UTCTime.day(setup.span.start)
        to = UTCTime.day(setup.span.end)
        params = setup.params.merging(result.params) { $1 }
        fills = setup.rules.timing.rawValue
        slippageTicks = setup.rules.slippageTicks
        commission = BacktestReport.commissionText(setup.rules.commission)
        initialCash = setup.initialCash
        baseCurrency = setup.baseCurrency.uppercased()
    }
}
