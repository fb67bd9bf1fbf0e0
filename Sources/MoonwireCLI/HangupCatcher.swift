import Dispatch
import Foundation
import Moonwire
import NIOConcurrencyHelpers

/// SIGHUP (and `moonwire reload`, which sends it) reloads every strategy of a run. Caught from
/// the moment this is made, the first thing `moonwire run` does: SIGHUP's default action ends
/// the process, and a HUP that comes while the run checks its files, connects or starts its
/// strategies must not. One that comes before the strategies run reloads them once they do;
/// one after the run began to stop is let go.
final class HangupCatcher: Sendable {
    private enum Phase {
        case starting(pending: Bool)
        case running(MoonwireRuntime)
        case stopping
    }

    private let phase = NIOLockedValueBox(Phase.starting(pending: false))

    init() {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "sighup"))
        source.setEventHandler { [phase] in
            let ready = phase.withLockedValue { phase -> MoonwireRuntime? in
                switch phase {
                case .starting: phase = .starting(pending: true); return nil
                case let .running(runtime): return runtime
                case .stopping: return nil
                }
            }
            if let ready { Task { await Self.reloadAll(ready) } }
        }
        source.resume()
        SignalSources.keep(source)
    }

    /// The strategies run: a HUP now reloads them, and one that came before does so at once.
    func running(_ runtime: MoonwireRuntime) {
        let pending = phase.withLockedValue { phase -> Bool in
            defer { phase = .running(runtime) }
            if case let .starting(pending) = phase { return pending }
            return false
        }
        if pending { Task { await Self.reloadAll(runtime) } }
    }

    /// The run is ending: a HUP reloads nothing any more (and still does not end the process).
    func stopping() { phase.withLockedValue { $0 = .stopping } }

    static func reloadAll(_ runtime: MoonwireRuntime) async {
        for name in runtime.strategyNames { _ = await runtime.reload(strategy: name) }
    }
}
