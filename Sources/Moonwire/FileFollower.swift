import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix

/// The strategies' names and files: which name a new file gets, and which strategy a saved
/// file (its own, or a module it required) belongs to.
final class FileFollower: Sendable {
    private struct Files {
        var pathOfName: [String: String] = [:]
        /// Names being launched (not running yet, already taken).
        var reserved: Set<String> = []
        /// Per strategy: its file and the modules it required.
        var followed: [String: Set<String>] = [:]
    }
    private let files = NIOLockedValueBox(Files())
    let watcher = NIOLockedValueBox<FileWatcher?>(nil)
    let moduleScan = NIOLockedValueBox<Task<Void, Never>?>(nil)

    func path(of name: String) -> String? { files.withLockedValue { $0.pathOfName[name] } }

    var names: [String] { files.withLockedValue { $0.pathOfName.keys.sorted() } }

    /// The file's name, or the shortest end of its path that no running strategy has
    /// (`b/momentum` beside `a/momentum.lua`'s `momentum`). Throws when the same file runs.
    func reserveName(for path: String) throws -> String {
        try files.withLockedValue { files in
            if let running = files.pathOfName.first(where: { $0.value == path }) {
                throw MoonwireError("\(path) is running already, as \(running.key)")
            }
            let parts = URL(fileURLWithPath: path).deletingPathExtension().pathComponents.filter { $0 != "/" }
            for count in 1...max(parts.count, 1) {
                let candidate = parts.suffix(count).joined(separator: "/")
                if files.pathOfName[candidate] == nil && !files.reserved.contains(candidate) {
                    files.reserved.insert(candidate)
                    return candidate
                }
            }
            throw MoonwireError("no name tells \(path) apart from the running strategies: give it one")
        }
    }

    func release(_ name: String) { files.withLockedValue { _ = $0.reserved.remove(name) } }

    func added(name: String, path: String) {
        files.withLockedValue { files in
            files.reserved.remove(name)
            files.pathOfName[name] = path
            files.followed[name, default: []].insert(path)
        }
    }

    func removed(name: String) {
        files.withLockedValue { files in
            files.pathOfName[name] = nil
            files.followed[name] = nil
        }
    }

    /// The strategies `path` belongs to.
    func owners(of path: String) -> [String] {
        let changed = URL(fileURLWithPath: path).standardizedFileURL.path
        return files.withLockedValue { $0.followed.filter { $0.value.contains(changed) }.map(\.key) }
    }

    func follow(module: String, of name: String) -> Bool {
        let path = URL(fileURLWithPath: module).standardizedFileURL.path
        return files.withLockedValue { files in
            guard files.followed[name] != nil else { return false }
            return files.followed[name, default: []].insert(path).inserted
        }
    }

    func watch(_ path: String) {
        watcher.withLockedValue { try? $0?.watch(path) }
    }

    func stop() {
        moduleScan.withLockedValue { $0?.cancel() }
        watcher.withLockedValue { $0?.stop() }
    }
}

extension MoonwireRuntime {
    /// Saving a strategy's file, or a module it required, reloads it.
    func startWatchingFiles() {
        let runner = self.runner
        let files = self.files
        files.watcher.withLockedValue {
            $0 = try? FileWatcher { path in
                for name in files.owners(of: path) { runner.fileChanged(strategy: name, path: path) }
            }
        }
        // The modules a strategy required are known once its code has run: looked for each second.
        files.moduleScan.withLockedValue {
            $0 = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    for name in files.names {
                        guard let strategy = runner.strategy(named: name), strategy.hungReason == nil else { continue }
                        let modules = await strategy.loop.submit { strategy.modulePaths }.value(within: 1) ?? []
                        for module in modules where files.follow(module: module, of: name) { files.watch(module) }
                    }
                }
            }
        }
    }

    /// `moonwire halt`, `reload` and `status` reach this run through a socket in a private
    /// folder next to the journal (see `ControlChannel`); another user is refused, and logged.
    func serveControlChannel() async throws {
        let logger = Logger(label: "moonwire")
        let server = try await ControlChannel.serve(journal: journalPath, group: MultiThreadedEventLoopGroup.singleton,
                                                    refused: { line in logger.warning("\(line)") }) { [weak self] command in
            guard let self else { return "error: the run is ending" }
            switch command {
            case "status":
                return await self.status()
            case "reload":
                var lines: [String] = []
                for name in self.strategyNames {
                    let outcome = await self.reload(strategy: name)
                    lines.append("\(name): " + (outcome.map { $0.succeeded ? "reloaded (hash \($0.hash))" : "reload failed: \($0.error ?? "?")" } ?? "gone"))
                }
                return lines.joined(separator: "\n")
            case "halt", "halt --all":
                let everything = command == "halt --all"
                self.hub.publish(.notice("halt: cancelling every open order\(everything ? " of the account (global cancel)" : " the strategies placed") and stopping"))
                return await self.halt(everything: everything).text + "\nthe run is stopping"
            default:
                return "error: unknown command '\(command)' (halt, halt --all, reload, status)"
            }
        }
        control.withLockedValue { $0 = server }
    }
}
