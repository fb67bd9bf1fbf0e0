import Foundation
import Money
import Testing
@testable import PaperGateway
@testable import StrategyHost
@testable import TradingState

/// The account's exchange rates, live: the paper gateway reports `ExchangeRate` account values
/// as TWS does, the trading state keeps them over the socket, and the risk gate values every
/// order with them under the default limits.
@Suite("Live exchange rates and the default limits over a paper gateway", .serialized, .timeLimit(.minutes(2)))
struct LiveRatesTests {
    /// The default universe plus USD.JPY (JPY learnt as 1 / its mid) and GBP.CHF (no pair leads
    /// to GBP or CHF: neither has a rate).
    static func universe(_ config: inout PaperGatewayConfig) {
        config.instruments += [
            Instrument(symbol: "USD.JPY", conId: 15016059, primaryExchange: "IDEALPRO", longName: "US Dollar", stockType: "", startPrice: 150,
                       volatility: 0.07, tickSize: 0.005, lot: 100_000, secType: "CASH", exchange: "IDEALPRO", currency: "JPY", ibSymbol: "USD"),
            Instrument(symbol: "GBP.CHF", conId: 12087797, primaryExchange: "IDEALPRO", longName: "British pound", stockType: "", startPrice: 1.12,
                       volatility: 0.07, tickSize: 0.00005, lot: 100_000, secType: "CASH", exchange: "IDEALPRO", currency: "CHF", ibSymbol: "GBP"),
        ]
        config.fills.partialFills = false
    }

    @Test("the paper gateway's ExchangeRate values reach TradingState.rates over the socket: base USD, EUR from EUR.USD, JPY from USD.JPY")
    func ratesReachTheState() async throws {
        let rig = try await Rig.start("function on_start() end", gateway: Self.universe)
        do { try await Self.checkRates(rig) } catch {
            await rig.stop()
            throw error
        }
        await rig.stop()
    }

    static func checkRates(_ rig: Rig) async throws {
        let mids = try await rig.server.withEngine { engine in
            (engine.market.quote(symbol: "EUR.USD")?.mid ?? 0, engine.market.quote(symbol: "USD.JPY")?.mid ?? 0)
        }
        // Reconciliation asked for the account values before the strategy started: the rates are in.
        let rates = rig.state.rates
        #expect(rates.base == "USD")
        let eur = try #require(rates.rate("EUR"), "EUR has a rate: \(rates.known)")
        let jpy = try #require(rates.rate("JPY"), "JPY has a rate: \(rates.known)")
        // The market moves between the report and this read: within a percent of the mid now.
        #expect(abs(eur / mids.0 - 1) < 0.01, "EUR \(eur), EUR.USD mid \(mids.0)")
        #expect(abs(jpy * mids.1 - 1) < 0.01, "JPY \(jpy), USD.JPY mid \(mids.1)")
        #expect(rates.rate("CHF") == nil && rates.rate("GBP") == nil, "no pair leads to them: \(rates.known)")
        #expect(rig.runner.rates() == rates, "the runner serves the trading state's rates to strategies")
    }

    @Test("the default limits pass ordinary sizes and stop fat fingers on every type, valued in USD; no rate, no order")
    func defaultLimitsLive() async throws {
        let rig = try await Rig.start("""
            local orders_for = {
              ["EUR.USD"] = { 20000, 1000001, 950000 },
              ["ES 202612"] = { 1, 11 },
              ["AAPL 20261218 C 190"] = { 1 },
              ["USD.JPY"] = { 300000 },
              ["GBP.CHF"] = { 1000 },
            }
            function on_start() for symbol in pairs(orders_for) do market.subscribe(symbol) end end
            local done = {}
            function on_quote(q)
              if done[q.symbol] or not q.bid or not q.ask then return end
              done[q.symbol] = true
              for _, qty in ipairs(orders_for[q.symbol]) do
                local id, err = orders.buy(q.symbol, qty)
                print(q.symbol .. " " .. qty .. " " .. (id and "placed" or ("refused " .. err.code .. " " .. err.message)))
              end
            end
            """, gateway: Self.universe)
        do { try await eventually("eight answers") { await rig.lines().count >= 8 } } catch {
            await rig.stop()
            throw error
        }
        let lines = await rig.lines()
        await rig.stop()
        for placed in ["EUR.USD 20000", "ES 202612 1", "AAPL 20261218 C 190 1", "USD.JPY 300000"] {
            #expect(lines.contains(placed + " placed"), "\(placed): \(lines)")
        }
        #expect(lines.contains("EUR.USD 1000001 refused risk:max_order_quantity risk: 1000001 EUR exceeds risk.max_order_quantity.CASH 1000000"), "\(lines)")
        #expect(lines.contains("ES 202612 11 refused risk:max_order_quantity risk: 11 contracts exceeds risk.max_order_quantity.FUT 10"), "\(lines)")
        // 950,000 EUR at about 1.08: about 1,026,000 USD, past the 1,000,000 USD of notional.
        #expect(lines.contains { $0.hasPrefix("EUR.USD 950000 refused risk:max_order_notional risk: notional ")
                && $0.contains(" USD exceeds risk.max_order_notional 1,000,000 USD") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("GBP.CHF 1000 refused risk:no_rate risk: no exchange rate for CHF yet") }, "\(lines)")
    }
}
