import Testing
@testable import Money

/// The ledger against a reference written here another way: an average *price* without
/// commissions plus a pool of the open position's commissions (the ledger keeps one cost
/// basis), corrections handled by recomputing from the corrected list (the ledger rebooks
/// from the corrected execution on). 100,000 random sequences: long and short, flips, partial
/// closes, corrections, late commissions, three currencies, multipliers.
@Suite struct LedgerReferenceTests {
    struct ReferenceFill {
        var id: String
        var instrument: Int
        var quantity: Double
        var price: Double
        var commission: Double
        /// The rate of the instrument's currency when first told (the base figures use it).
        var rate: Double
    }

    struct ReferencePosition {
        var quantity = 0.0
        var averagePrice = 0.0
        var openCommission = 0.0
        var realized = 0.0
        var realizedBase = 0.0
        var commissions = 0.0
    }

    static func reference(_ fills: [ReferenceFill], multipliers: [Double]) -> [ReferencePosition] {
        var positions = Array(repeating: ReferencePosition(), count: multipliers.count)
        for fill in fills {
            var p = positions[fill.instrument]
            let m = multipliers[fill.instrument]
            p.commissions += fill.commission
            let sameSide = p.quantity == 0 || (p.quantity > 0) == (fill.quantity > 0)
            if sameSide {
                let total = abs(p.quantity) + abs(fill.quantity)
                p.averagePrice = (p.averagePrice * abs(p.quantity) + fill.price * abs(fill.quantity)) / total
                p.openCommission += fill.commission
                p.quantity += fill.quantity
            } else {
                let closing = min(abs(fill.quantity), abs(p.quantity))
                let share = closing / abs(fill.quantity)
                let long = p.quantity > 0
                let gross = (fill.price - p.averagePrice) * closing * m * (long ? 1 : -1)
                let entryCommission = p.openCommission * closing / abs(p.quantity)
                let pnl = gross - entryCommission - fill.commission * share
                p.realized += pnl
                p.realizedBase += pnl * fill.rate
                p.openCommission -= entryCommission
                p.quantity += long ? -closing : closing
                if abs(p.quantity) < 1e-9 { p = ReferencePosition(quantity: 0, averagePrice: 0, openCommission: 0, realized: p.realized,
                                                                  realizedBase: p.realizedBase, commissions: p.commissions) }
                let opening = abs(fill.quantity) - closing
                if opening > 1e-9 {
                    p.quantity = fill.quantity > 0 ? opening : -opening
                    p.averagePrice = fill.price
                    p.openCommission = fill.commission * (1 - share)
                }
            }
            positions[fill.instrument] = p
        }
        return positions
    }

    /// A deterministic generator (SplitMix64): the same seed, the same sequences.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-6 * max(1, abs(a), abs(b)) }

    @Test func hundredThousandRandomSequencesMatchTheReference() {
        var random = SplitMix(state: 20_261_202)
        let currencies = ["USD", "JPY", "EUR"]
        let multiplierChoices = [1.0, 50, 100, 0.1]
        var differences: [String] = []
        for sequence in 0..<100_000 {
            let instruments = Int.random(in: 1...3, using: &random)
            let terms = (0..<instruments).map { _ in
                InstrumentTerms(secType: "STK", currency: currencies.randomElement(using: &random)!,
                                multiplier: multiplierChoices.randomElement(using: &random)!)
            }
            var ledger = Ledger(cash: 0)
            for (i, t) in terms.enumerated() { ledger.register("I\(i)", terms: t) }
            var rates: [String: Double] = ["USD": 1, "JPY": 0.0067, "EUR": 1.08]
            ledger.rates.set("JPY", toBase: 0.0067)
            ledger.rates.set("EUR", toBase: 1.08)
            var told: [ReferenceFill] = []
            let steps = Int.random(in: 1...12, using: &random)
            var nextId = 0
            for _ in 0..<steps {
                // Rates move between fills.
                for currency in ["JPY", "EUR"] where Bool.random(using: &random) {
                    rates[currency] = currency == "JPY" ? Double.random(in: 0.005...0.01, using: &random) : Double.random(in: 0.9...1.3, using: &random)
                    ledger.rates.set(currency, toBase: rates[currency]!)
                }
                let i = Int.random(in: 0..<instruments, using: &random)
                let roll = Int.random(in: 0..<10, using: &random)
                if roll == 0, let target = told.indices.randomElement(using: &random) {
                    // A correction of an earlier execution: new shares, price and commission.
                    var corrected = told[target]
                    corrected.quantity = (corrected.quantity > 0 ? 1 : -1) * Double(Int.random(in: 1...500, using: &random))
                    corrected.price = (Double.random(in: 1...200, using: &random) * 100).rounded() / 100
                    corrected.commission = Double(Int.random(in: 0...300, using: &random)) / 100
                    let oldId = corrected.id
                    corrected.id = "c\(nextId)"
                    nextId += 1
                    ledger.apply(LedgerFill(execId: corrected.id, instrument: "I\(corrected.instrument)", quantity: corrected.quantity,
                                            price: corrected.price, commission: corrected.commission, corrects: oldId))
                    told[target] = corrected
                    continue
                }
                if roll == 1, let target = told.indices.randomElement(using: &random) {
                    // Its commission report arrives late, with another amount.
                    let amount = Double(Int.random(in: 0...300, using: &random)) / 100
                    ledger.setCommission(execId: told[target].id, amount: amount, currency: terms[told[target].instrument].currency)
                    told[target].commission = amount
                    continue
                }
                let held = ledger.quantity("I\(i)")
                // Flips, exact closes and partial closes are common, not left to chance.
                let quantity: Double
                switch Int.random(in: 0..<4, using: &random) {
                case 0 where held != 0: quantity = -held
                case 1 where held != 0: quantity = -held * 2
                case 2 where held != 0: quantity = -(held / 2).rounded(.towardZero)
                default: quantity = Double(Int.random(in: 1...1_000, using: &random)) * (Bool.random(using: &random) ? 1 : -1)
                }
                guard quantity != 0 else { continue }
                let fill = ReferenceFill(id: "e\(nextId)", instrument: i, quantity: quantity,
                                         price: (Double.random(in: 1...200, using: &random) * 100).rounded() / 100,
                                         commission: Double(Int.random(in: 0...300, using: &random)) / 100,
                                         rate: rates[terms[i].currency] ?? 1)
                nextId += 1
                ledger.apply(LedgerFill(execId: fill.id, instrument: "I\(i)", quantity: fill.quantity, price: fill.price,
                                        commission: fill.commission))
                told.append(fill)
            }
            // Corrections and late commissions keep the rate of the execution they replace.
            let expected = Self.reference(told, multipliers: terms.map(\.multiplier))
            var expectedRealizedBase = 0.0
            for (i, p) in expected.enumerated() {
                let h = ledger.holdings[i]
                let referenceAverageCost = p.quantity == 0 ? 0 : (p.averagePrice * p.quantity * terms[i].multiplier + p.openCommission) / p.quantity
                if !Self.close(h.quantity, p.quantity) || !Self.close(h.realized, p.realized) || !Self.close(h.averageCost, referenceAverageCost)
                    || !Self.close(h.commissions, p.commissions)
                {
                    differences.append("sequence \(sequence) I\(i): ledger q \(h.quantity) avg \(h.averageCost) realized \(h.realized) "
                                       + "commissions \(h.commissions); reference q \(p.quantity) avg \(referenceAverageCost) "
                                       + "realized \(p.realized) commissions \(p.commissions)")
                }
                expectedRealizedBase += p.realizedBase
            }
            if !Self.close(ledger.realizedBase, expectedRealizedBase) {
                differences.append("sequence \(sequence): realized in base \(ledger.realizedBase), reference \(expectedRealizedBase)")
            }
            // Money is neither made nor lost: what cash paid is what the positions cost, less
            // what they realized (per currency).
            for currency in currencies {
                let paid = -(ledger.cash[currency] ?? 0)
                let tied = zip(ledger.holdings, expected).filter { $0.0.terms.currency == currency }
                    .reduce(0.0) { $0 + $1.0.costBasis - $1.1.realized }
                if !Self.close(paid, tied) { differences.append("sequence \(sequence): \(currency) cash \(paid) vs cost less realized \(tied)") }
            }
            if differences.count >= 5 { break }
        }
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
    }
}
