import Foundation
import LuaRuntime
import NIOCore

/// Hot reload: the new code takes over between two events, or not at all.
extension Strategy {
    public struct ReloadOutcome: Sendable, Equatable {
        public var succeeded: Bool
        /// FNV-1a of the file, hex.
        public var hash: String
        /// How long the strategy's loop was busy with the swap.
        public var milliseconds: Double
        public var error: String?
    }

    /// Reloads from the file on disk.
    public func reload() async -> ReloadOutcome {
        let source: String
        do {
            source = try Self.read(path)
        } catch {
            return ReloadOutcome(succeeded: false, hash: "", milliseconds: 0, error: "\(error)")
        }
        return await reload(source: source)
    }

    /// Compiles `source` and runs its top level in a fresh environment under the load budget.
    /// On failure the old code keeps running untouched and its on_error hears why. On success
    /// the new handlers replace the old in one step; the old code's timers are cancelled and
    /// its waits in flight are abandoned (their replies dropped); `store`, positions, orders
    /// and subscriptions carry over; `on_reload(store)` runs in the new code (not on_start).
    /// Events that arrive meanwhile wait in the queue and go to the new code, in order.
    public func reload(source: String) async -> ReloadOutcome {
        // A hung strategy's loop may never answer; the runner starts a fresh state instead (`StrategyRunner.reload`).
        if let reason = hungReason { return ReloadOutcome(succeeded: false, hash: "", milliseconds: 0, error: "\(name): \(reason)") }
        return (try? await loop.submit { self.reloadNow(source: source) }.get())
            ?? ReloadOutcome(succeeded: false, hash: "", milliseconds: 0, error: "the strategy's loop is gone")
    }

    func reloadNow(source: String) -> ReloadOutcome {
        loop.preconditionInEventLoop()
        let started = DispatchTime.now().uptimeNanoseconds
        let hash = Self.fingerprint(source)
        let file = URL(fileURLWithPath: path).lastPathComponent
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6 }
        let fresh: LuaRef
        let previousModules = loadedModules
        loadedModules = [:]  // the new code requires its modules afresh
        // The new top level may write to `store` (the same table the old code holds): a
        // failed reload puts it back as it was, so nothing the failed file did survives.
        let storeBefore = try? lua.read(storeRef, path: "store")
        do {
            fresh = try loadEnvironment(source: source)
        } catch {
            for (_, ref) in loadedModules { lua.release(ref) }
            loadedModules = previousModules
            if let storeBefore { lua.replaceContents(of: storeRef, with: storeBefore) }
            let message = (error as? LuaError)?.message ?? "\(error)"
            let outcome = ReloadOutcome(succeeded: false, hash: hash, milliseconds: elapsed(), error: message)
            statistics.failedReloads += 1
            logger.error("reload of \(file) failed, the old code keeps running: \(message)")
            services?.journal(strategy: name, kind: "reload", detail: "failed hash=\(hash) \(String(format: "%.2f", outcome.milliseconds)) ms: \(message)")
            lua.label = Self.label(handler: "on_error")
            run(lua.call(env, "on_error", [LuaTables.error(code: "reload", message: message, orderId: nil)]), handler: "on_error",
                isErrorHandler: true)
            return outcome
        }
        cancelAllTimers()
        for (_, pending) in waits { lua.cancel(pending.thread) }
        waits.removeAll()
        for (_, ref) in previousModules { lua.release(ref) }
        let old = env
        env = fresh
        lua.release(old)
        consecutiveFailures = 0
        if statistics.paused {
            statistics.paused = false  // new code gets a new chance
            logger.notice("resumed: the reloaded code runs again after the pause")
        }
        statistics.reloads += 1
        loadedHash = hash
        let outcome = ReloadOutcome(succeeded: true, hash: hash, milliseconds: elapsed(), error: nil)
        services?.journal(strategy: name, kind: "reload", detail: "ok hash=\(hash) \(String(format: "%.2f", outcome.milliseconds)) ms")
        lua.label = Self.label(handler: "on_reload")
        run(lua.call(env, "on_reload", references: [storeRef]), handler: "on_reload")
        persistStore()
        return outcome
    }

    static func fingerprint(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
