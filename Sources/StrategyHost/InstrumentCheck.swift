import NIOConcurrencyHelpers
import TWSClient
import TWSProtocol
import TradingState

/// Whether TWS knows an instrument, as far as it has answered.
public enum InstrumentStatus: Sendable, Equatable {
    case resolved
    /// TWS has no such instrument (error 200), or the description fits several: the message
    /// says which, and what to name instead.
    case unknown(String)
    /// Asked (a subscription asks), no answer yet: an order on a stock does not wait for it;
    /// TWS's own rejection reaches `on_error` if it comes.
    case checking
    /// Never asked, or the answer did not come (a timeout, no connection).
    case unresolved
}

/// Instruments resolved through contract details: asked once per key, kept for the run. An
/// order on an instrument TWS does not know is refused at the call, naming it, instead of
/// being sent and rejected later; an ambiguous description is refused with the candidates.
final class InstrumentCache: Sendable {
    private enum Entry {
        case resolved(ResolvedInstrument)
        case unknown(String)
        case checking
    }
    private let known = NIOLockedValueBox<[String: Entry]>([:])

    func status(_ key: String) -> InstrumentStatus {
        switch known.withLockedValue({ $0[key] }) {
        case .resolved?: return .resolved
        case let .unknown(why)?: return .unknown(why)
        case .checking?: return .checking
        case nil: return .unresolved
        }
    }

    /// A subscription is asking: from now on orders on it do not wait for the answer.
    func markChecking(_ key: String) {
        known.withLockedValue { if $0[key] == nil { $0[key] = .checking } }
    }

    func resolved(_ key: String) -> ResolvedInstrument? {
        if case let .resolved(instrument)? = known.withLockedValue({ $0[key] }) { return instrument }
        return nil
    }

    /// The answer for `spec` as it was asked (see `InstrumentSpec.lookupKey`).
    func resolved(_ spec: InstrumentSpec) -> ResolvedInstrument? { resolved(spec.lookupKey) }

    /// Asks TWS (unless it answered already) and keeps a definite answer, under the spec's
    /// lookup key: a table naming AAPL with a con_id, an exchange or a currency of its own is
    /// another question, whose "no such instrument" must not stand for plain AAPL (one
    /// strategy's bad table refused every strategy's AAPL orders for the rest of the run).
    @discardableResult
    func resolve(_ spec: InstrumentSpec, client: TWSClient) async -> InstrumentStatus {
        let lookup = spec.lookupKey
        let current = known.withLockedValue { known -> Entry? in
            let current = known[lookup]
            if current == nil { known[lookup] = .checking }
            return current
        }
        switch current {
        case .resolved?: return .resolved
        case let .unknown(why)?: return .unknown(why)
        default: break  // not asked, or asked by a subscription that has not asked yet
        }
        let answer: Entry
        do {
            answer = .resolved(try await spec.resolve(with: client))
        } catch let error as InstrumentSpecError {
            answer = .unknown(error.description)
        } catch {
            known.withLockedValue { if case .checking? = $0[lookup] { $0[lookup] = nil } }
            return .unresolved
        }
        known.withLockedValue { $0[lookup] = answer }
        if case let .unknown(why) = answer { return .unknown(why) }
        return .resolved
    }
}

extension Contract {
    /// The key, with the exchange when it is not SMART (how candidates are told apart).
    var instrumentKeyWithExchange: String {
        exchange.isEmpty || exchange == "SMART" ? instrumentKey : "\(instrumentKey) (\(exchange))"
    }
}

extension InstrumentSpec {
    /// What answers about this instrument are kept under: its key when it is the instrument
    /// its key names as a string (`AAPL`, `ES 202612`), else the key and the whole contract.
    var lookupKey: String { lookupKey { try? InstrumentSpec.parse($0) } }

    /// The same, with the key parsed by `parse` (a strategy's cache of what it parsed: an
    /// order looks its instrument up every time).
    func lookupKey(parsing parse: (String) -> InstrumentSpec?) -> String {
        if let plain = parse(key), plain.contract == contract { return key }
        return key + " | " + String(describing: contract)
    }

    /// Asks TWS for the one contract this names (contract details). Throws
    /// `InstrumentSpecError` when TWS has none (200) or it fits several (naming them), and the
    /// client's error when TWS does not answer.
    public func resolve(with client: TWSClient) async throws -> ResolvedInstrument {
        let details: [ContractDetails]
        do {
            details = try await client.contractDetails(contract)
        } catch let TWSError.ib(code, message, _) where code == 200 {
            throw InstrumentSpecError("TWS has no instrument \(key) (\(code): \(message))")
        }
        if details.count == 1 || (contract.secType == "CONTFUT" && !details.isEmpty) {
            var resolved = details[0].contract
            if !contract.exchange.isEmpty && contract.secType != "CONTFUT" { resolved.exchange = contract.exchange }
            return ResolvedInstrument(key: key, contract: resolved, details: details[0])
        }
        if details.isEmpty { throw InstrumentSpecError("TWS has no instrument \(key) (no contract details)") }
        let candidates = details.map { $0.contract.instrumentKeyWithExchange }.sorted()
        throw InstrumentSpecError("\(key) is ambiguous: it fits \(candidates.joined(separator: ", ")); name one")
    }
}
