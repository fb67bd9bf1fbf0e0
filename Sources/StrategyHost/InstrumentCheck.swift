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

    /// Asks TWS (unless it answered already) and keeps a definite answer.
    @discardableResult
    func resolve(_ spec: InstrumentSpec, client: TWSClient) async -> InstrumentStatus {
        let current = known.withLockedValue { known -> Entry? in
            let current = known[spec.key]
            if current == nil { known[spec.key] = .checking }
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
            known.withLockedValue { if case .checking? = $0[spec.key] { $0[spec.key] = nil } }
            return .unresolved
        }
        known.withLockedValue { $0[spec.key] = answer }
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
