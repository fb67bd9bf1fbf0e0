import Testing
import TWSProtocol
import TradingState
@testable import StrategyHost

/// A strategy's own positions are booked by the one ledger: a correction replaces the
/// execution it corrects (no invented trade, no second commission), an execution told twice
/// counts once, and a late commission report lands in the cost.
@Suite("Position book")
struct PositionBookTests {
    static func execution(_ execId: String, side: String, shares: Double, price: Double, commission: Double?,
                          corrects: ExecutionRecord? = nil) -> ExecutionRecord
    {
        var details = ExecDetails()
        details.contract = Contract(symbol: "AAPL")
        details.execution.execId = execId
        details.execution.side = side
        details.execution.shares = TWSDecimal(approximating: shares)
        details.execution.price = price
        var record = ExecutionRecord(details: details, clientKey: "k", receivedAt: 0)
        if let commission { record.commission = CommissionReport(execId: execId, commission: commission, currency: "USD", realizedPNL: nil) }
        if let corrects { record.corrects = (corrects.execId, corrects.signedShares) }
        return record
    }

    @Test("long 100 @ 8, buy 100 @ 10 corrected to 60 @ 10: 160 at 8.75 plus the commission, nothing realized")
    func correction() {
        let first = Self.execution("A.01", side: "BOT", shares: 100, price: 8, commission: 0)
        let wrong = Self.execution("B.01", side: "BOT", shares: 100, price: 10, commission: 1)
        let fixed = Self.execution("B.02", side: "BOT", shares: 60, price: 10, commission: 1, corrects: wrong)
        var book = PositionBook()
        book.apply(first)
        book.apply(wrong)
        // The old book sold 40 @ 10 here: +40 of invented PnL, an average of 9, a second commission.
        #expect(book.apply(fixed) == 0)
        #expect(book["AAPL"]?.quantity == 160)
        // (800 + 600 + 1.00) / 160 = 8.75625: 8.75 plus the commission's share.
        #expect(abs((book["AAPL"]?.averageCost ?? 0) - 1401.0 / 160) < 1e-12)
        #expect(book.realized == 0)
        // Told again after a reconnect: nothing moves.
        book.apply(wrong)
        book.apply(fixed)
        #expect(book["AAPL"]?.quantity == 160)
    }

    @Test("a commission report after the fill was booked: it goes into the cost, then into the realized PnL")
    func lateCommission() {
        var book = PositionBook()
        book.apply(Self.execution("C.01", side: "BOT", shares: 100, price: 10, commission: nil))
        book.commission(CommissionReport(execId: "C.01", commission: 1, currency: "USD", realizedPNL: nil))
        #expect(abs((book["AAPL"]?.averageCost ?? 0) - 10.01) < 1e-12)
        let realized = book.apply(Self.execution("C.02x.01", side: "SLD", shares: 100, price: 11, commission: 1))
        // (11 - 10.01) x 100 - 1.00 = 98.00
        #expect(abs(realized - 98) < 1e-9)
        #expect(book.isFlat)
    }
}
