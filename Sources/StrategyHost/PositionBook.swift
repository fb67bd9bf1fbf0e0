import Money
import TWSProtocol
import TradingState

/// Positions kept from fills: what one strategy holds by its own orders, apart from what the
/// account holds in total (other strategies, other clients, manual trades). Booked in the one
/// `Money.Ledger`, so a strategy's PnL is computed as the backtest's and the paper account's:
/// average cost with commissions, corrections replacing the execution they correct, an
/// execution told twice booked once.
public struct PositionBook: Sendable, ExpressibleByDictionaryLiteral {
    public private(set) var ledger = Ledger(keepsHistory: true)

    public init() {}

    /// A book that keeps no execution history: nothing is ever corrected, told twice, or
    /// given its commission later (a backtest's fills), so none of it is needed, and a long
    /// run does not keep every fill it made.
    public init(keepsHistory: Bool) { ledger = Ledger(keepsHistory: keepsHistory) }

    /// Positions held before any fill (tests, tools): stocks in base currency at `averageCost`.
    public init(dictionaryLiteral elements: (String, (quantity: Double, averageCost: Double))...) {
        for (key, position) in elements {
            ledger.seed(key, terms: InstrumentTerms(currency: ledger.rates.base), quantity: position.quantity, averageCost: position.averageCost)
        }
    }

    /// A held position: quantity and average price per unit, commissions included (what to
    /// compare with a quote). Nil when the strategy never traded it.
    public subscript(key: String) -> (quantity: Double, averageCost: Double)? {
        ledger.holding(key).map { ($0.quantity, $0.averagePrice) }
    }

    /// The instruments held now (flat ones left out), sorted.
    public var keys: [String] { ledger.keys.filter { ledger.quantity($0) != 0 }.sorted() }
    public var count: Int { ledger.keys.count { ledger.quantity($0) != 0 } }
    /// Asked on every mark: no list is made for it, no name looked up.
    public var isFlat: Bool { !ledger.holdings.contains { $0.quantity != 0 } }

    /// Realized PnL in base, commissions of the reducing fills included.
    public var realized: Double { ledger.realizedBase }

    public mutating func use(rates: CurrencyRates) { ledger.rates = rates }

    /// Books an execution (a correction replaces the one it corrects). Returns the PnL it
    /// realized in base.
    @discardableResult
    public mutating func apply(_ execution: ExecutionRecord) -> Double {
        ledger.register(execution.symbol, terms: execution.details.contract.terms)
        let before = ledger.realizedBase
        ledger.apply(LedgerFill(execId: execution.execId, instrument: execution.symbol, quantity: execution.signedShares,
                                price: execution.price, commission: execution.commission?.commission ?? 0,
                                commissionCurrency: execution.commission?.currency ?? "", corrects: execution.corrects?.execId))
        return ledger.realizedBase - before
    }

    /// Whether the execution is in the book already (the start's snapshot held it, and it is
    /// relayed again): a correction is always new.
    public func holds(_ execution: ExecutionRecord) -> Bool { execution.corrects == nil && ledger.hasBooked(execution.execId) }

    /// A commission report that came after its execution was booked.
    @discardableResult
    public mutating func commission(_ report: CommissionReport) -> Double {
        let before = ledger.realizedBase
        ledger.setCommission(execId: report.execId, amount: report.commission, currency: report.currency)
        return ledger.realizedBase - before
    }

    /// Unrealized PnL in base at the marks (a position without one counts nothing).
    public func unrealized(mark: (String) -> Double?) -> Double { ledger.unrealizedBase(mark: mark) }

    /// The positions a strategy's own journaled fills add up to (attribution survives restarts:
    /// every order is journaled with the strategy that placed it).
    public static func own(of strategy: String, in snapshot: TradingState.Snapshot) -> PositionBook {
        let orders = snapshot.orders.filter { $0.strategy == strategy }
        let keys = Set(orders.map(\.clientKey))
        let ids = Set(orders.map(\.orderId))
        var book = PositionBook()
        for execution in snapshot.executions where execution.clientKey.map(keys.contains) ?? ids.contains(execution.orderId) {
            book.apply(execution)
        }
        return book
    }
}
