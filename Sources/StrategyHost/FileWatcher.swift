import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Watches files through inotify on their directories, so saves by rename (vim and most
/// editors: write a temporary file, rename it over), by truncate-and-write and by atomic
/// replace are all seen. Calls `changed` with the path on a background thread.
public final class FileWatcher: @unchecked Sendable {
    private let fd: Int32
    private var watches: [Int32: String] = [:]  // wd → directory
    private var files: Set<String> = []
    private let lock = NSLock()
    private var running = true
    private let changed: @Sendable (String) -> Void
    private var thread: Thread?

    public init(changed: @escaping @Sendable (String) -> Void) throws {
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw WatchError(message: "inotify is not available (errno \(errno))") }
        self.changed = changed
        let thread = Thread { [weak self] in self?.loop() }
        thread.name = "moonwire-file-watcher"
        self.thread = thread
        thread.start()
    }

    deinit {
        stop()
    }

    public struct WatchError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Starts watching `path` (its directory is watched; only this file is reported).
    public func watch(_ path: String) throws {
        let file = URL(fileURLWithPath: path).standardizedFileURL.path
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent().path
        lock.lock()
        defer { lock.unlock() }
        files.insert(file)
        guard !watches.values.contains(directory) else { return }
        // Only complete files: closed after writing, or renamed into place (never a bare create).
        let mask = UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO)
        let wd = inotify_add_watch(fd, directory, mask)
        guard wd >= 0 else { throw WatchError(message: "cannot watch \(directory) (errno \(errno))") }
        watches[wd] = directory
    }

    public func stop() {
        lock.lock()
        let wasRunning = running
        running = false
        lock.unlock()
        if wasRunning { close(fd) }
    }

    private var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return running
    }

    private func loop() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while isRunning {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 200)
            guard ready > 0 else { continue }
            let count = read(fd, &buffer, buffer.count)
            guard count > 0 else { continue }
            var offset = 0
            var reported = Set<String>()
            while offset + MemoryLayout<inotify_event>.size <= count {
                let (wd, length) = buffer.withUnsafeBytes { raw -> (Int32, Int) in
                    let event = raw.load(fromByteOffset: offset, as: inotify_event.self)
                    return (event.wd, Int(event.len))
                }
                let nameStart = offset + MemoryLayout<inotify_event>.size
                let nameBytes = buffer[nameStart..<min(nameStart + length, count)].prefix { $0 != 0 }
                let name = String(decoding: nameBytes, as: UTF8.self)
                offset = nameStart + length
                lock.lock()
                let directory = watches[wd]
                lock.unlock()
                guard let directory else { continue }
                let path = directory + "/" + name
                lock.lock()
                let watched = files.contains(path)
                lock.unlock()
                if watched && reported.insert(path).inserted { changed(path) }
            }
        }
    }
}

extension Strategy {
    /// A change seen by the watcher: reload 10 ms after the last one (a burst of saves loads
    /// once; the watcher only reports files closed after writing or renamed into place, so a
    /// half-written file is never loaded), unless the content is what already runs.
    /// A module the strategy required changed: the strategy reloads (and requires it afresh).
    public func fileChanged(path changed: String? = nil) {
        loop.execute {
            let module = changed.map { URL(fileURLWithPath: $0).standardizedFileURL.path != URL(fileURLWithPath: self.path).standardizedFileURL.path } ?? false
            self.pendingReload?.cancel()
            self.pendingReload = self.loop.scheduleTask(in: .milliseconds(10)) {
                self.pendingReload = nil
                guard let source = try? Self.read(self.path) else { return }
                let hash = Self.fingerprint(source)
                guard hash != self.loadedHash || module else { return }
                let outcome = self.reloadNow(source: source)
                if outcome.succeeded { self.loadedHash = hash }
                self.onReload?(outcome)
            }
        }
    }
}
