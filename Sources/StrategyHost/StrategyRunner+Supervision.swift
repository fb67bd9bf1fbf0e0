import Foundation
import Logging
import LuaRuntime
import NIOCore
import NIOPosix
import TradingState

/// What the host does when a strategy misbehaves beyond what its budget can stop (the kill
/// switch: StrategyRunner+KillSwitch.swift). None of it runs on, or waits for, a strategy's
/// loop (design.md invariant 9).
extension StrategyRunner {
    // MARK: Launching

    /// Creates a strategy on a loop of its own (a new thread), adds it and starts it.
    public func launch(path: String, name: String? = nil, config: HostConfig, params: [String: String] = [:],
                       logger: Logger = Logger(label: "strategy")) async throws -> Strategy
    {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let strategy = try await Strategy.make(path: path, name: name, loop: group.next(), services: self, config: config,
                                                   params: params, logger: logger)
            loops.withLockedValue { $0.append((group, strategy)) }
            // Relayed events wait for on_start from the moment it is on the runner.
            try await strategy.loop.submit { strategy.awaitingStart = true }.get()
            add(strategy)
            return strategy
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Stops every strategy (bounded: a hung one is left behind) and shuts down the loops
    /// the runner made, except a hung strategy's, whose thread cannot be taken back.
    public func stopAll() async -> [String: StrategyStatistics] {
        var results: [String: StrategyStatistics] = [:]
        await withTaskGroup(of: (String, StrategyStatistics).self) { group in
            for strategy in all { group.addTask { (strategy.name, await strategy.stop()) } }
            for await (name, statistics) in group { results[name] = statistics }
        }
        // A hung strategy's loop stays listed: the watchdog shuts it down once its stuck
        // handler returns (`reclaimReturnedLoops`).
        let owned = loops.withLockedValue { list -> [(group: MultiThreadedEventLoopGroup, strategy: Strategy)] in
            let running = list.filter { $0.strategy.hungReason == nil }
            list.removeAll { $0.strategy.hungReason == nil }
            return running
        }
        await withTaskGroup(of: Void.self) { group in
            for entry in owned {
                group.addTask { _ = await entry.group.shutdown(within: 2) }
            }
        }
        return results
    }

    /// Stops one strategy (bounded, as `stopAll`), ends its market data streams, and takes it
    /// off the runner; with `cancelOrders` its open orders are cancelled first. Its orders
    /// stay journaled under its name: added again, it sees them again. Nil when no strategy
    /// has that name.
    public func stop(strategy name: String, cancelOrders: Bool = false) async -> StrategyStatistics? {
        guard let strategy = strategy(named: name) else { return nil }
        if cancelOrders {
            for order in await state.snapshot().orders where order.strategy == name && !order.status.isTerminal && order.status != .unknown {
                cancel(id: order.orderId)
            }
        }
        let statistics = await strategy.stop()
        unsubscribeAll(strategy)
        remove(strategy)
        let owned = loops.withLockedValue { list -> MultiThreadedEventLoopGroup? in
            // A hung strategy's loop stays listed until its stuck handler returns (`reclaimReturnedLoops`).
            guard strategy.hungReason == nil, let index = list.firstIndex(where: { $0.strategy === strategy }) else { return nil }
            return list.remove(at: index).group
        }
        if let owned { _ = await owned.shutdown(within: 2) }
        return statistics
    }

    // MARK: The watchdog

    /// Checks every strategy every 100 ms: a handler still running after the hard limit
    /// (`strategy.hard_limit_ms`) is declared hung; one that declared itself overloaded (its
    /// inbox overflowed) is cut off the same way; the loop of a hung one whose handler has
    /// returned is taken back. The checks run on a timer of their own (a dispatch queue), not
    /// on Swift's cooperative pool: busy tasks there cannot make the watchdog miss a stall.
    public func startWatchdog() {
        guard watchdog == nil else { return }
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "moonwire.watchdog"))
        timer.schedule(deadline: .now() + .milliseconds(100), repeating: .milliseconds(100), leeway: .milliseconds(10))
        timer.setEventHandler { [weak self] in
            guard let self else { return }
            for strategy in self.all {
                if strategy.hungReason == nil {
                    if let seconds = strategy.lua.runningFor, seconds > strategy.limits.hangSeconds, let reason = self.markHung(strategy, seconds: seconds) {
                        Task { await self.cutOff(strategy, reason: reason) }
                    }
                } else if strategy.cutOffWanted.withLockedValue({ wanted in defer { wanted = false }; return wanted }) {
                    let reason = strategy.hungReason ?? "overloaded"
                    Task { await self.cutOff(strategy, reason: reason) }
                }
            }
            self.reclaimReturnedLoops()
        }
        timer.resume()
        watchdog = timer
    }

    /// The thread of a hung strategy comes back when its stuck handler returns at last (the
    /// budget stopped a C loop, a host extension that blocked returned): nothing runs on it
    /// any more. A restart asked for meanwhile starts then, and once a fresh state has
    /// replaced it (or it was removed) its loop is shut down: nothing reaches it through the
    /// runner any more (work submitted to a loop that is shut down would never complete).
    /// One that never returns (a C function no budget reaches) keeps its one thread, and no
    /// restart adds another beside it (`restart`).
    func reclaimReturnedLoops() {
        let current = Set(all.map(ObjectIdentifier.init))
        let returned = loops.withLockedValue { list -> [(group: MultiThreadedEventLoopGroup, strategy: Strategy)] in
            let done = list.filter { entry in
                entry.strategy.hungReason != nil && entry.strategy.lua.runningFor == nil && !current.contains(ObjectIdentifier(entry.strategy))
            }
            list.removeAll { entry in done.contains { $0.strategy === entry.strategy } }
            return done
        }
        for entry in returned {
            Task { _ = await entry.group.shutdown(within: 2) }
        }
        for strategy in all where strategy.hungReason != nil && strategy.lua.runningFor == nil {
            if strategy.restartState.withLockedValue({ $0 == .wanted }) {
                Task { await self.restart(strategy) }
            }
        }
    }

    /// The threads the runner made for strategies (one loop each; a hung strategy's until its
    /// handler returns), and how many of them are still in a handler of a strategy declared
    /// hung (stuck in something no budget reaches).
    public var strategyThreads: (alive: Int, stuck: Int) {
        loops.withLockedValue { list in
            (list.count, list.filter { $0.strategy.hungReason != nil && $0.strategy.lua.runningFor != nil }.count)
        }
    }

    /// Declares a stuck strategy hung at once (nothing more is posted to it); nil when it
    /// already was.
    func markHung(_ strategy: Strategy, seconds: Double) -> String? {
        let handler = Strategy.describe(label: strategy.lua.label)
        let reason = "\(handler) has not returned after \(String(format: "%.1f", seconds)) s "
            + "(last seen running \(strategy.lua.lastPosition)): declared hung"
        let first = strategy.hungBox.withLockedValue { current -> Bool in
            guard current == nil else { return false }
            current = reason
            return true
        }
        guard first else { return nil }
        strategy.inbox.withLockedValue { $0.closed = true }
        return reason
    }

    /// Cuts a hung strategy off: nothing it asks for is sent, its open orders are cancelled.
    /// Saving its file (or `reload`) starts a fresh state of it.
    func cutOff(_ strategy: Strategy, reason: String) async {
        let open = await state.snapshot().orders.filter { $0.strategy == strategy.name && !$0.status.isTerminal && $0.status != .unknown }
        for order in open { cancel(id: order.orderId) }
        let message = "\(strategy.name): \(reason); cut off from the order flow, \(open.count) open order(s) cancelled; "
            + "save a fixed file (or run `moonwire reload`) to start it afresh"
        journal(strategy: strategy.name, kind: "hung", detail: reason)
        if let onSupervision { onSupervision(message) } else { logger.error("\(message)") }
    }

    // MARK: Reloading through the runner

    /// A save of `path` (the strategy's file or one of its modules): the strategy reloads,
    /// or, when it was declared hung, a fresh state of it starts on a new loop.
    public func fileChanged(strategy name: String, path: String? = nil) {
        guard let strategy = strategy(named: name) else { return }
        if strategy.hungReason != nil {
            Task { await self.restart(strategy) }
        } else {
            strategy.fileChanged(path: path)
        }
    }

    /// `moonwire reload` / SIGHUP: reloads now (or restarts a hung strategy).
    public func reload(strategy name: String) async -> Strategy.ReloadOutcome? {
        guard let strategy = strategy(named: name) else { return nil }
        if strategy.hungReason != nil { return await restart(strategy) }
        let outcome = await strategy.reload()
        _ = try? await strategy.loop.submit { strategy.onReload?(outcome) }.get()
        return outcome
    }

    /// A fresh Lua state of a hung strategy, from its file as it is now, on a new loop. Its
    /// `store` is the last one journaled, its subscriptions carry over (by name), its
    /// `on_start` runs, then its `on_error` hears of the hang.
    /// While the hung state's thread is still stuck, the fresh one waits for it to return
    /// (the watchdog starts it then): a thread that cannot be stopped is not joined by
    /// another at every reload.
    @discardableResult
    func restart(_ hung: Strategy) async -> Strategy.ReloadOutcome {
        let started = DispatchTime.now().uptimeNanoseconds
        let source = (try? Strategy.read(hung.path)) ?? ""
        let hash = Strategy.fingerprint(source)
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6 }
        enum Decision { case already, deferred, now }
        let stuckFor = hung.lua.runningFor
        let decision = hung.restartState.withLockedValue { state -> Decision in
            guard state != .started else { return .already }
            state = stuckFor == nil ? .started : .wanted
            return stuckFor == nil ? .now : .deferred
        }
        switch decision {
        case .already:
            return Strategy.ReloadOutcome(succeeded: false, hash: hash, milliseconds: elapsed(), error: "\(hung.name) has already been started afresh")
        case .deferred:
            let message = "\(hung.name) is still stuck after \(String(format: "%.1f", stuckFor ?? 0)) s (last seen running \(hung.lua.lastPosition)), "
                + "in something no budget reaches: it starts afresh from its file as soon as that returns (a fresh state now would add a "
                + "thread beside one that cannot be stopped)"
            journal(strategy: hung.name, kind: "restart", detail: "deferred: still stuck")
            onSupervision?(message)
            return Strategy.ReloadOutcome(succeeded: false, hash: hash, milliseconds: elapsed(), error: message)
        case .now:
            break
        }
        do {
            let fresh = try await launch(path: hung.path, name: hung.name, config: hung.config, params: hung.extraParams, logger: hung.baseLogger)
            let callback = hung.onReload
            let watchers = hung.modulePaths
            _ = try? await fresh.loop.submit {
                fresh.onReload = callback
                fresh.modulePaths = watchers
            }.get()
            fresh.start(positions: await startingPositions(strategy: hung.name), orders: await startingOrders(strategy: hung.name))
            fresh.post(.error(code: "hung", message: hung.hungReason ?? "the previous state hung", orderId: nil))
            let outcome = Strategy.ReloadOutcome(succeeded: true, hash: hash, milliseconds: elapsed(), error: nil)
            journal(strategy: hung.name, kind: "restart", detail: "fresh state after a hang, hash=\(hash)")
            onSupervision?("\(hung.name): started afresh from \(URL(fileURLWithPath: hung.path).lastPathComponent) after the hang (hash \(hash))")
            return outcome
        } catch {
            let message = (error as? LuaError)?.message ?? "\(error)"
            hung.restartState.withLockedValue { $0 = .none }  // a fixed file may try again
            journal(strategy: hung.name, kind: "restart", detail: "failed: \(message)")
            onSupervision?("\(hung.name): cannot start afresh, the file still fails: \(message)")
            return Strategy.ReloadOutcome(succeeded: false, hash: hash, milliseconds: elapsed(), error: message)
        }
    }
}

extension StrategyRunner {
    // MARK: Fail-closed at every reconciliation

    /// After every reconciliation (startup, each reconnect): the trading state has set the
    /// order gate from its findings (`reconcile`: a position unexplained or a part of the
    /// state unknown keeps orders from leaving); each strategy hears of each change once
    /// (`on_error` with code `reconcile`), and the journal says when trading reopens.
    func closeOrderFlow(after report: ReconciliationReport) {
        if client.orderGate.reason(of: "reconciling") == nil { toldReconciling.withLockedValue { $0 = false } }
        let reason = client.orderGate.reason(of: "reconcile")
        let changed = toldReconcile.withLockedValue { told -> Bool in
            defer { told = reason }
            return told != reason
        }
        guard changed else { return }
        if let reason {
            journal.connectionEvent("closed", reason)
            for strategy in all { strategy.post(.error(code: "reconcile", message: reason, orderId: nil)) }
        } else {
            journal.connectionEvent("open", "reconciled: trading is open")
        }
    }
}

extension StrategyRunner {
    // MARK: The daily loss, live

    /// Subscribes to TWS's PnL of `account` (reqPnL: about once a second). Every update
    /// reaches each strategy's risk gate, which halts the strategy (cancels its orders,
    /// refuses new ones, journals it, tells on_error) once the day's loss passes
    /// `risk.max_daily_loss`.
    public func followPnL(account: String) {
        Task { [client, logger] in
            do {
                _ = try await client.pnl(account: account)
            } catch {
                logger.warning("no PnL from TWS for \(account) (\(error)): risk.max_daily_loss cannot be watched")
            }
        }
    }
}
