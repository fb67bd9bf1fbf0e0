import NIOConcurrencyHelpers
import TWSClient
import TWSProtocol

/// Whether TWS knows an instrument: asked once per symbol (contract details), kept for the run.
/// An order on an instrument TWS does not know is refused at the call, naming it, instead of
/// being sent and rejected later.
public enum InstrumentStatus: Sendable, Equatable {
    case resolved
    /// TWS answered that there is no such instrument (error 200): the message says so.
    case unknown(String)
    /// Asked (a subscription asks), no answer yet: orders do not wait for it; TWS's own
    /// rejection reaches `on_error` if it comes.
    case checking
    /// Never asked, or the answer did not come (a timeout, no connection).
    case unresolved
}

final class InstrumentCache: Sendable {
    private let known = NIOLockedValueBox<[String: InstrumentStatus]>([:])

    func status(_ symbol: String) -> InstrumentStatus { known.withLockedValue { $0[symbol] ?? .unresolved } }

    /// Asks TWS (unless it answered already) and keeps a definite answer.
    func resolve(_ symbol: String, client: TWSClient) async -> InstrumentStatus {
        let current = known.withLockedValue { known -> InstrumentStatus in
            let current = known[symbol] ?? .unresolved
            if current == .unresolved { known[symbol] = .checking }
            return current
        }
        guard current == .unresolved || current == .checking else { return current }
        let answer: InstrumentStatus
        do {
            answer = try await client.contractDetails(Contract(symbol: symbol)).isEmpty
                ? .unknown("TWS has no instrument \(symbol) (no contract details)") : .resolved
        } catch let TWSError.ib(code, message, _) where code == 200 {
            answer = .unknown("TWS has no instrument \(symbol) (\(code): \(message))")
        } catch {
            known.withLockedValue { if $0[symbol] == .checking { $0[symbol] = .unresolved } }
            return .unresolved
        }
        known.withLockedValue { $0[symbol] = answer }
        return answer
    }
}
