import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The local control channel of a running `moonwire run`: `moonwire halt`, `reload` and
/// `status` talk to the run through a Unix socket, instead of a pid file and a signal.
///
/// Nobody else may fake or block it:
/// - Runs register in a private folder next to the journal, `JOURNAL.control/`: the user's
///   own, mode 0700, a real folder (checked with lstat, so never a link); one that is not
///   private is refused with an error that names it, its owner and its mode.
/// - Each run registers: `<pid>.run` (its pid, socket and journal; 0600, written whole and
///   renamed into place). Its socket `<pid>.sock` (0600) sits beside it, or, when that path is
///   too long for a socket (108 bytes), in a folder the run makes for itself under /tmp with
///   an unpredictable name (mkdtemp: 0700, its own): no name another user could take first.
///   Commands find runs by their registrations, never by guessing socket names.
/// - Both ends check who is on the other one (SO_PEERCRED): the run answers only its own
///   user (another is refused, and the run logs it); a command talks only to the registered
///   process of its own user.
/// - Commands ask every registered run at once, each bounded: one that does not answer hides
///   no other. A run's files are removed only when they are ours, its socket refuses
///   connections and its process is gone; never because a socket could not be opened.
///
/// One command a connection, one line (`halt`, `halt --all`, `reload`, `status`). The run
/// acknowledges it at once (`accepted: COMMAND`, a line the asking side drops: a socket
/// whose server never speaks is given up after seconds, not after the whole command's
/// time), then answers in text and closes the connection.
public enum ControlChannel {
    /// Where the runs of one journal register: the private folder, the names' prefix, and
    /// the journal's absolute path (which every registration repeats).
    struct Place {
        var folder: String
        var prefix: String
        var journal: String

        func socket(pid: Int32) -> String { folder + "/" + prefix + String(pid) + ".sock" }
        func registration(pid: Int32) -> String { folder + "/" + prefix + String(pid) + ".run" }
        /// Whether a socket beside the registrations fits in a socket address (108 bytes on
        /// Linux, 104 on macOS, with room to spare).
        var socketFitsBeside: Bool { socket(pid: Int32.max).utf8.count < 100 }
    }

    /// `JOURNAL.control/` next to the journal. Every spelling of the journal's path (relative,
    /// through a link to its folder or to itself) finds the same runs: the path is made
    /// canonical with realpath(3), of the journal when it exists, else of its folder.
    static func place(journal: String) -> Place {
        let absolute = canonicalPath(URL(fileURLWithPath: journal).standardizedFileURL.path)
        return Place(folder: absolute + ".control", prefix: "", journal: absolute)
    }

    static func canonicalPath(_ path: String) -> String {
        func real(_ path: String) -> String? {
            guard let resolved = realpath(path, nil) else { return nil }
            defer { free(resolved) }
            return String(cString: resolved)
        }
        if let whole = real(path) { return whole }
        let url = URL(fileURLWithPath: path)
        guard let folder = real(url.deletingLastPathComponent().path) else { return path }
        return folder + "/" + url.lastPathComponent
    }

    /// Prefix of the folders a run makes under /tmp for a socket whose path beside the journal
    /// would be too long.
    static let temporaryPrefix = "/tmp/moonwire-sock-"

    /// Whether `socket`, named in the registration of process `pid`, is where such a run puts
    /// it: beside the registration, or `<pid>.sock` in a private folder of ours under /tmp.
    static func isOwnSocketPath(_ socket: String, pid: Int32, place: Place) -> Bool {
        if socket == place.socket(pid: pid) { return true }
        let url = URL(fileURLWithPath: socket)
        let folder = url.deletingLastPathComponent().path
        guard url.lastPathComponent == "\(pid).sock", folder.hasPrefix(temporaryPrefix),
              !folder.dropFirst(temporaryPrefix.count).contains("/")
        else { return false }
        return (try? checkFolder(folder, create: false)) == true
    }

    /// A new private folder under /tmp (mkdtemp: a name nobody can take first, 0700, ours).
    static func makeTemporaryFolder() throws -> String {
        var template = Array((temporaryPrefix + "XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw ControlChannelError(message: "cannot create a folder for the control socket under /tmp: \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }

    // MARK: The folder

    /// Checks that `folder` is private to this user: a folder (not a link to one), owned by
    /// us, with no access for group or others. With `create`, a missing one is made (0700).
    /// Returns false when it does not exist (and was not to be made); throws when it is not
    /// private, naming its owner and mode.
    @discardableResult
    static func checkFolder(_ folder: String, create: Bool) throws -> Bool {
        if create {
            if mkdir(folder, 0o700) == 0 {
                // The umask may have taken bits off; ours, just made: set exactly 0700.
                chmod(folder, 0o700)
            } else if errno != EEXIST {
                throw ControlChannelError(message: "cannot create the control folder \(folder): \(String(cString: strerror(errno)))")
            }
        }
        var info = stat()
        guard lstat(folder, &info) == 0 else {
            if errno == ENOENT && !create { return false }
            throw ControlChannelError(message: "cannot read the control folder \(folder): \(String(cString: strerror(errno)))")
        }
        let kind = info.st_mode & S_IFMT
        let mode = info.st_mode & 0o7777
        guard kind == S_IFDIR, info.st_uid == getuid(), mode & 0o077 == 0 else {
            let what = kind == S_IFLNK ? "a symbolic link" : kind == S_IFDIR ? "a folder" : "not a folder"
            throw ControlChannelError(message: "the control folder \(folder) is not private to you (\(userName(getuid()))): it is \(what) "
                                          + "owned by \(userName(info.st_uid)), mode \(String(mode, radix: 8, uppercase: false).leftPadded(4)); "
                                          + "it must be a folder of yours with mode 0700: remove it (its owner or root can), then start the run")
        }
        return true
    }

    static func userName(_ uid: uid_t) -> String {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid \(uid)" }
        return "\(String(cString: name)) (uid \(uid))"
    }

    // MARK: Registrations

    /// What a run writes about itself next to its socket.
    struct Registration: Codable, Sendable, Equatable {
        var pid: Int32
        var socket: String
        var journal: String
    }

    /// Writes the registration of this process: whole, owner-only, then renamed into place
    /// (a reader never sees half of one).
    static func register(_ registration: Registration, at path: String) throws {
        let temporary = path + ".tmp"
        unlink(temporary)
        let data = try JSONEncoder().encode(registration)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ControlChannelError(message: "cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == data.count, synced == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw ControlChannelError(message: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// The runs registered for `journal`: files of ours in the private folder, naming this
    /// journal and the socket their pid gives. Throws when the folder is not private.
    static func registrations(journal: String) throws -> [Registration] {
        let place = place(journal: journal)
        guard try checkFolder(place.folder, create: false) else { return [] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: place.folder)) ?? []
        return names.compactMap { name -> Registration? in
            guard name.hasPrefix(place.prefix), name.hasSuffix(".run"),
                  let pid = Int32(name.dropFirst(place.prefix.count).dropLast(".run".count)), pid > 0
            else { return nil }
            let path = place.folder + "/" + name
            guard let data = readOwnFile(path), let registration = try? JSONDecoder().decode(Registration.self, from: data),
                  registration.pid == pid, registration.journal == place.journal,
                  isOwnSocketPath(registration.socket, pid: pid, place: place)
            else { return nil }
            return registration
        }.sorted { $0.pid < $1.pid }
    }

    /// The contents of a small regular file of ours (never through a link), or nil.
    static func readOwnFile(_ path: String) -> Data? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_uid == getuid(), info.st_size < 4096 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(fd, &buffer, buffer.count)
        return count > 0 ? Data(buffer[..<count]) : nil
    }

    /// Removes `path` when it is ours and of `kind` (S_IFSOCK, S_IFREG); never follows a link.
    static func removeOwn(_ path: String, kind: mode_t) {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == kind, info.st_uid == getuid() else { return }
        unlink(path)
    }

    // MARK: Serving

    /// A run's served channel: `close` stops serving and removes its socket and registration.
    public final class Server: Sendable {
        let channel: Channel
        let place: Place
        let pid: Int32
        let socket: String

        init(channel: Channel, place: Place, pid: Int32, socket: String) {
            self.channel = channel
            self.place = place
            self.pid = pid
            self.socket = socket
        }

        public func close() async {
            removeOwn(place.registration(pid: pid), kind: S_IFREG)
            _ = await channel.close().value(within: 2)
            removeOwn(socket, kind: S_IFSOCK)
            removeOwnTemporaryFolder(of: socket)
        }
    }

    /// Removes the private /tmp folder a socket was made in (empty once the socket is gone).
    static func removeOwnTemporaryFolder(of socket: String) {
        let folder = URL(fileURLWithPath: socket).deletingLastPathComponent().path
        if folder.hasPrefix(temporaryPrefix) { rmdir(folder) }
    }

    /// Serves commands for the run on `journal` until `close` is called on the result. A
    /// connection from another user is refused and told to `refused` (a line to log).
    public static func serve(journal: String, group: EventLoopGroup, refused: @escaping @Sendable (String) -> Void = { _ in },
                             handle: @escaping @Sendable (String) async -> String) async throws -> Server
    {
        let place = place(journal: journal)
        let pid = getpid()
        try checkFolder(place.folder, create: true)
        let path = place.socketFitsBeside ? place.socket(pid: pid) : try makeTemporaryFolder() + "/\(pid).sock"
        let channel: Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(CommandHandler(handle: handle, refused: refused))
                    }
                }
                .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        } catch {
            removeOwnTemporaryFolder(of: path)
            throw error
        }
        chmod(path, 0o600)  // the owner only (the folder already is)
        do {
            try register(Registration(pid: pid, socket: path, journal: place.journal), at: place.registration(pid: pid))
        } catch {
            _ = await channel.close().value(within: 2)
            removeOwn(path, kind: S_IFSOCK)
            removeOwnTemporaryFolder(of: path)
            throw error
        }
        return Server(channel: channel, place: place, pid: pid, socket: path)
    }

    // MARK: Asking

    /// What one registered run made of a command.
    public enum Answer: Sendable {
        /// Its reply.
        case replied(String)
        /// It no longer runs: its socket refused and its process is gone; its files were removed.
        case gone
        /// It could not be asked, or did not answer in time (why, in words).
        case failed(String)
    }

    /// Sends `command` to every run registered for `journal`, all at once: each connection
    /// must be made in `connectTimeout` and answered in `timeout`. Throws when the folder is
    /// not private. Returns each run's process id and answer, by process id.
    public static func ask(_ command: String, journal: String, group: EventLoopGroup, connectTimeout: Double = 2,
                           timeout: Double) async throws -> [(pid: Int32, answer: Answer)]
    {
        let runs = try registrations(journal: journal)
        let place = place(journal: journal)
        return await withTaskGroup(of: (Int32, Answer).self) { tasks in
            for run in runs {
                tasks.addTask {
                    (run.pid, await ask(command, run: run, place: place, group: group, connectTimeout: connectTimeout, timeout: timeout))
                }
            }
            var answers: [(pid: Int32, answer: Answer)] = []
            for await answer in tasks { answers.append(answer) }
            return answers.sorted { $0.pid < $1.pid }
        }
    }

    /// The line a run sends as soon as it has a command.
    static let accepted = "accepted: "

    static func ask(_ command: String, run: Registration, place: Place, group: EventLoopGroup, connectTimeout: Double,
                    timeout: Double) async -> Answer
    {
        let loop = group.any()
        let reply = loop.makePromise(of: String.self)
        let heard = loop.makePromise(of: Void.self)
        let collector = ReplyCollector(reply: reply, heard: heard)
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.milliseconds(Int64(connectTimeout * 1000)))
                .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) } }
                .connect(unixDomainSocketPath: run.socket).get()
        } catch {
            reply.fail(error)
            heard.fail(error)
            let code = (error as? IOError)?.errnoCode
            // Nobody serves it, and its process is gone: a run that was killed. Its files
            // (ours, in our private folder) go. Anything else is reported and left alone.
            if code == ECONNREFUSED || code == ENOENT, kill(run.pid, 0) != 0, errno == ESRCH {
                removeOwn(run.socket, kind: S_IFSOCK)
                removeOwnTemporaryFolder(of: run.socket)
                removeOwn(place.registration(pid: run.pid), kind: S_IFREG)
                return .gone
            }
            return .failed("cannot connect to \(run.socket): \(error)")
        }
        defer { channel.close(promise: nil) }
        // The other end must be the registered process, of this user.
        let peer = await peer(of: channel).value(within: connectTimeout) ?? nil
        if peer == nil && peersAreChecked { return .failed("cannot tell who serves \(run.socket) (SO_PEERCRED): nothing sent") }
        if let peer, peer.uid != getuid() || peer.pid != run.pid {
            return .failed("\(run.socket) is served by process \(peer.pid) of \(userName(peer.uid)), not by process \(run.pid) of "
                               + "\(userName(getuid())) that registered it: refused, nothing sent")
        }
        do {
            try await channel.writeAndFlush(ByteBuffer(string: command + "\n")).get()
        } catch {
            return .failed("cannot send `\(command)` to \(run.socket): \(error)")
        }
        // A run acknowledges at once; whatever never speaks is given up soon.
        guard await heard.futureResult.value(within: connectTimeout + 3) != nil else {
            return .failed("\(run.socket) accepted the connection but did not acknowledge `\(command)` within \(Int(connectTimeout + 3)) s")
        }
        guard let text = await reply.futureResult.value(within: timeout) else {
            return .failed("no answer to `\(command)` within \(Int(timeout)) s")
        }
        return .replied(text.hasPrefix(accepted) ? String(text.drop { $0 != "\n" }.dropFirst()) : text)
    }

    // MARK: Who is on the other end

    struct Peer: Sendable, Equatable {
        var pid: Int32
        var uid: uid_t
    }

    /// Linux's `struct ucred` (Glibc hides it behind _GNU_SOURCE): the same three 32-bit fields.
    struct Credentials: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// Whether this system names the peer of a Unix socket (Linux: SO_PEERCRED). Elsewhere
    /// (macOS) the private folder alone keeps other users out.
    #if os(Linux)
    static let peersAreChecked = true
    #else
    static let peersAreChecked = false
    #endif

    /// The process and user at the other end of a connected Unix socket (SO_PEERCRED), or nil
    /// when the system cannot tell.
    static func peer(of channel: Channel) -> EventLoopFuture<Peer?> {
        #if os(Linux)
        guard let provider = channel as? SocketOptionProvider else { return channel.eventLoop.makeSucceededFuture(nil) }
        return provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
            .map { (credentials: Credentials) -> Peer? in Peer(pid: credentials.pid, uid: uid_t(credentials.uid)) }
            .recover { _ in nil }
        #else
        return channel.eventLoop.makeSucceededFuture(nil)
        #endif
    }
}

public struct ControlChannelError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// Reads one command line (at most 4 KiB), checks who sent it, answers it, closes.
private final class CommandHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let handle: @Sendable (String) async -> String
    let refused: @Sendable (String) -> Void
    /// What came so far, and whether the one command was read (anything after it is ignored).
    private let received = NIOLockedValueBox((text: "", done: false))

    init(handle: @escaping @Sendable (String) async -> String, refused: @escaping @Sendable (String) -> Void) {
        self.handle = handle
        self.refused = refused
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let text = buffer.readString(length: buffer.readableBytes) ?? ""
        let line = received.withLockedValue { received -> String? in
            guard !received.done else { return nil }
            received.text += text
            let end = received.text.firstIndex(of: "\n")
            guard end != nil || received.text.utf8.count > 4096 else { return nil }
            defer { received = ("", true) }
            return end.map { String(received.text[..<$0]) } ?? ""
        }
        guard let line else { return }
        let channel = context.channel
        let handle = self.handle
        let refused = self.refused
        ControlChannel.peer(of: channel).whenComplete { result in
            let peer = (try? result.get()) ?? nil
            if peer?.uid != getuid() && (peer != nil || ControlChannel.peersAreChecked) {
                let who = peer.map { "process \($0.pid) of \(ControlChannel.userName($0.uid))" } ?? "a process the system cannot name"
                // What another user sent is shown tamed: no control character reaches the log.
                let shown = String(line.prefix(64).unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "?" : Character($0) })
                refused("control channel: refused `\(shown)` from \(who): only \(ControlChannel.userName(getuid())) may control this run")
                channel.writeAndFlush(ByteBuffer(string: "error: refused: only the user running this run may control it\n")).whenComplete { _ in
                    channel.close(promise: nil)
                }
                return
            }
            channel.writeAndFlush(ByteBuffer(string: ControlChannel.accepted + line.prefix(64) + "\n"), promise: nil)
            Task {
                let reply = line.isEmpty ? "error: one command a line, at most 4 KiB" : await handle(line.trimmingCharacters(in: .whitespaces))
                channel.writeAndFlush(ByteBuffer(string: reply.hasSuffix("\n") ? reply : reply + "\n")).whenComplete { _ in
                    channel.close(promise: nil)
                }
            }
        }
    }
}

/// Collects everything the run writes until it closes the connection (at most 1 MiB);
/// `heard` completes with the first bytes.
private final class ReplyCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    private let text = NIOLockedValueBox("")
    let reply: EventLoopPromise<String>
    let heard: EventLoopPromise<Void>

    init(reply: EventLoopPromise<String>, heard: EventLoopPromise<Void>) {
        self.reply = reply
        self.heard = heard
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let chunk = buffer.readString(length: buffer.readableBytes) ?? ""
        heard.succeed(())
        let full = text.withLockedValue { text -> Bool in
            text += chunk
            return text.utf8.count > 1 << 20
        }
        if full { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        heard.succeed(())
        reply.succeed(text.withLockedValue { $0 })
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        heard.fail(error)
        reply.fail(error)
        context.close(promise: nil)
    }
}
