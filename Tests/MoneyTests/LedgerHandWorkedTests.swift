import Testing
@testable import Money

/// The cases, each with its arithmetic.
@Suite struct LedgerHandWorkedTests {
    let stock = InstrumentTerms(secType: "STK", currency: "USD")

    @Test func shortWithCommissionsRealizesBothCommissions() {
        var ledger = Ledger(cash: 100_000)
        ledger.register("XYZ", terms: stock)
        // Short 100 @ 10 paying 1.00: the proceeds less the commission are 999, so IB's
        // average cost is 9.99 (positive for a short).
        #expect(ledger.apply(LedgerFill(execId: "1", instrument: "XYZ", quantity: -100, price: 10, commission: 1)) == 0)
        #expect(abs(ledger.holding("XYZ")!.averageCost - 9.99) < 1e-12)
        // Cover @ 10 paying 1.00: (9.99 − 10) × 100 − 1.00 = −2.00 (the paper gateway said 0.00).
        let realized = ledger.apply(LedgerFill(execId: "2", instrument: "XYZ", quantity: 100, price: 10, commission: 1))
        #expect(abs(realized - -2) < 1e-9)
        #expect(abs(ledger.realizedBase - -2) < 1e-9)
        #expect(abs(ledger.cashBase - 99_998) < 1e-9)
        #expect(ledger.quantity("XYZ") == 0)
    }

    @Test func openCommissionIsNotRealizedUntilTheClose() {
        var ledger = Ledger()
        ledger.register("XYZ", terms: stock)
        ledger.apply(LedgerFill(execId: "1", instrument: "XYZ", quantity: 100, price: 10, commission: 1))
        // Open: nothing realized; the 1.00 is in the cost (10.01 a share) and so in unrealized.
        #expect(ledger.realizedBase == 0)
        #expect(abs(ledger.unrealizedBase { _ in 10 } - -1) < 1e-9)
    }

    @Test func flipLongToShortClosesThenOpensTheRest() {
        var ledger = Ledger()
        ledger.register("XYZ", terms: stock)
        ledger.apply(LedgerFill(execId: "1", instrument: "XYZ", quantity: 100, price: 10, commission: 1))  // cost 1001
        // Sell 300 @ 12 paying 3.00: 100 close ((12 − 10.01) × 100 − 1.00 = 198.00), 200 open short
        // at 12 with the other 2.00 of commission: cost −2400 + 2 = −2398, average 11.99.
        let realized = ledger.apply(LedgerFill(execId: "2", instrument: "XYZ", quantity: -300, price: 12, commission: 3))
        #expect(abs(realized - 198) < 1e-9)
        let holding = ledger.holding("XYZ")!
        #expect(holding.quantity == -200)
        #expect(abs(holding.averageCost - 11.99) < 1e-12)
    }

    @Test func correctionReplacesTheExecutionAndBooksNoTrade() {
        var ledger = Ledger()
        ledger.register("XYZ", terms: stock)
        ledger.apply(LedgerFill(execId: "A.01", instrument: "XYZ", quantity: 100, price: 8))
        ledger.apply(LedgerFill(execId: "B.01", instrument: "XYZ", quantity: 100, price: 10, commission: 1))
        // B corrected to 60 @ 10 (commission 1.00 as before): 160 held at (800 + 600 + 1) / 160.
        let realized = ledger.apply(LedgerFill(execId: "B.02", instrument: "XYZ", quantity: 60, price: 10, commission: 1, corrects: "B.01"))
        #expect(realized == 0)  // the old book sold 40 @ 10 for +40 of invented PnL
        let holding = ledger.holding("XYZ")!
        #expect(holding.quantity == 160)
        #expect(abs(holding.averagePrice - 1401.0 / 160) < 1e-12)
        #expect(holding.commissions == 1)  // charged once, not again
        // Told again (a replay after a reconnect): booked once.
        #expect(ledger.apply(LedgerFill(execId: "B.02", instrument: "XYZ", quantity: 60, price: 10, commission: 1, corrects: "B.01")) == 0)
        #expect(ledger.apply(LedgerFill(execId: "A.01", instrument: "XYZ", quantity: 100, price: 8)) == 0)
        #expect(ledger.quantity("XYZ") == 160)
    }

    @Test func lateCommissionRebooksTheExecution() {
        var ledger = Ledger()
        ledger.register("XYZ", terms: stock)
        ledger.apply(LedgerFill(execId: "1", instrument: "XYZ", quantity: 100, price: 10))
        ledger.apply(LedgerFill(execId: "2", instrument: "XYZ", quantity: -100, price: 11))
        #expect(abs(ledger.realizedBase - 100) < 1e-9)
        ledger.setCommission(execId: "1", amount: 1, currency: "USD")
        ledger.setCommission(execId: "2", amount: 1, currency: "USD")
        #expect(abs(ledger.realizedBase - 98) < 1e-9)
        #expect(abs(ledger.commissionsBase - 2) < 1e-9)
        #expect(abs(ledger.cashBase - 98) < 1e-9)
    }

    @Test func usdJpyFrom150To151IsAbout662UsdLessCommissions() {
        // 100,000 USD.JPY bought at 150 and sold at 151: +100,000 JPY. Commission 2.00 USD each
        // side (0.2 bp of 100,000 USD is 2.00, the minimum), 300 JPY and 302 JPY at the fills'
        // prices: 99,398 JPY, which at 151 JPY a dollar is 658.27 USD (662.25 before commissions).
        let terms = InstrumentTerms(secType: "CASH", currency: "JPY", pairBase: "USD")
        var ledger = Ledger(cash: 100_000)
        ledger.register("USD.JPY", terms: terms)
        ledger.rates.learn(pairBase: "USD", quote: "JPY", price: 150)
        let buy = CommissionSchedule.ibFixed.charge(terms, quantity: 100_000, price: 150)
        #expect(buy == Commission(amount: 2, currency: "USD"))
        ledger.apply(LedgerFill(execId: "1", instrument: "USD.JPY", quantity: 100_000, price: 150, commission: buy.amount, commissionCurrency: buy.currency))
        ledger.rates.learn(pairBase: "USD", quote: "JPY", price: 151)
        let realized = ledger.apply(LedgerFill(execId: "2", instrument: "USD.JPY", quantity: -100_000, price: 151, commission: 2, commissionCurrency: "USD"))
        #expect(abs(realized - 99_398) < 1e-6)
        #expect(abs(ledger.realizedBase - 99_398.0 / 151) < 1e-6)
        // Cash: the commissions leave the dollars (IB debits them in USD): 100,000 − 4 USD, and
        // +100,000 JPY from the trade itself, worth 662.25 USD at 151.
        #expect(ledger.cash["USD"] == 99_996)
        #expect(ledger.cash["JPY"] == 100_000)
        #expect(abs(ledger.equityBase { _ in 151 } - (99_996 + 100_000.0 / 151)) < 1e-6)
    }

    @Test func tenPointsOfOneEsContractIs500UsdLessCommissions() {
        let es = InstrumentTerms(secType: "FUT", currency: "USD", multiplier: 50)
        var ledger = Ledger()
        ledger.register("ES", terms: es)
        let commission = CommissionSchedule.ibFixed.charge(es, quantity: 1, price: 5_000)
        #expect(commission.amount == 0.85)
        ledger.apply(LedgerFill(execId: "1", instrument: "ES", quantity: 1, price: 5_000, commission: 0.85))
        let realized = ledger.apply(LedgerFill(execId: "2", instrument: "ES", quantity: -1, price: 5_010, commission: 0.85))
        #expect(abs(realized - (500 - 1.70)) < 1e-9)
        #expect(abs(ledger.holding("ES")!.commissions - 1.70) < 1e-12)
    }

    @Test func moneyWithoutARateIsNeverCountedOneToOne() {
        var ledger = Ledger(cash: 1_000)
        ledger.register("7203", terms: InstrumentTerms(currency: "JPY"))
        ledger.apply(LedgerFill(execId: "1", instrument: "7203", quantity: 100, price: 2_000))
        ledger.apply(LedgerFill(execId: "2", instrument: "7203", quantity: -100, price: 2_100))
        #expect(ledger.realizedBase == 0)
        #expect(ledger.unconvertedRealized["JPY"] == 10_000)
        #expect(ledger.unconvertedCurrencies == ["JPY"])
        #expect(ledger.cashBase == 1_000)
    }
}
