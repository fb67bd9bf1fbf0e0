import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The local control channel of a running `moonwire run`: a Unix socket, owner-only, one
/// per run, found through the run's journal. `moonwire halt`, `reload` and `status` talk to
/// the run through it, instead of a pid file and a signal (a stale pid could name another
/// process; a socket nobody serves just refuses).
///
/// One command a connection, one line (`halt`, `halt --all`, `reload`, `status`); the
/// answer is text, then the run closes the connection.
public enum ControlChannel {
    /// The folder the sockets of runs on `journal` live in, and their name prefix. Next to the
    /// journal when the path is short enough for a socket (108 bytes on Linux), else in a
    /// private folder under /tmp named after the journal.
    static func place(journal: String) -> (folder: String, prefix: String) {
        let absolute = URL(fileURLWithPath: journal).standardizedFileURL.path
        let beside = (URL(fileURLWithPath: absolute).deletingLastPathComponent().path,
                      URL(fileURLWithPath: absolute).lastPathComponent + ".control.")
        if (beside.0 + "/" + beside.1 + "4294967295").utf8.count < 100 { return beside }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in absolute.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return ("/tmp/moonwire-\(getuid())", String(hash, radix: 16) + ".control.")
    }

    /// The socket a run with process id `pid` serves for `journal`.
    public static func socketPath(journal: String, pid: Int32 = getpid()) -> String {
        let place = place(journal: journal)
        return place.folder + "/" + place.prefix + String(pid)
    }

    /// The sockets of runs on `journal` (live or stale), with their process ids.
    public static func sockets(journal: String) -> [(pid: Int32, path: String)] {
        let place = place(journal: journal)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: place.folder)) ?? []
        return names.compactMap { name in
            guard name.hasPrefix(place.prefix), let pid = Int32(name.dropFirst(place.prefix.count)) else { return nil }
            return (pid, place.folder + "/" + name)
        }.sorted { $0.pid < $1.pid }
    }

    /// Serves commands for the run on `journal` until `close` is called on the result.
    public static func serve(journal: String, group: EventLoopGroup,
                             handle: @escaping @Sendable (String) async -> String) async throws -> Channel
    {
        let path = socketPath(journal: journal)
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                attributes: folder.hasPrefix("/tmp/moonwire-") ? [.posixPermissions: 0o700] : nil)
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(CommandHandler(handle: handle)) }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        chmod(path, 0o600)  // the owner only
        return channel
    }

    /// Sends `command` to the socket at `path`; the run's answer, or an error when nothing
    /// serves it (a run that ended without removing it) or it does not answer in `timeout`.
    public static func send(_ command: String, to path: String, group: EventLoopGroup, timeout: Double) async throws -> String {
        let reply = group.any().makePromise(of: String.self)
        let collector = ReplyCollector(reply: reply)
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) } }
                .connect(unixDomainSocketPath: path).get()
        } catch {
            reply.fail(error)
            throw error
        }
        try await channel.writeAndFlush(ByteBuffer(string: command + "\n")).get()
        guard let reply = await reply.futureResult.value(within: timeout) else {
            channel.close(promise: nil)
            throw ControlChannelError(message: "the run at \(path) did not answer `\(command)` within \(Int(timeout)) s")
        }
        return reply
    }
}

public struct ControlChannelError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Reads one command line (at most 4 KiB), answers it, closes.
private final class CommandHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let handle: @Sendable (String) async -> String
    private let received = NIOLockedValueBox("")

    init(handle: @escaping @Sendable (String) async -> String) { self.handle = handle }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let text = buffer.readString(length: buffer.readableBytes) ?? ""
        let line = received.withLockedValue { received -> String? in
            received += text
            guard let end = received.firstIndex(of: "\n") else { return received.utf8.count > 4096 ? "" : nil }
            defer { received = "" }
            return String(received[..<end])
        }
        guard let line else { return }
        let channel = context.channel
        let handle = self.handle
        Task {
            let reply = line.isEmpty ? "error: one command a line, at most 4 KiB" : await handle(line.trimmingCharacters(in: .whitespaces))
            channel.writeAndFlush(ByteBuffer(string: reply.hasSuffix("\n") ? reply : reply + "\n")).whenComplete { _ in
                channel.close(promise: nil)
            }
        }
    }
}

/// Collects everything the run writes until it closes the connection.
private final class ReplyCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    private let text = NIOLockedValueBox("")
    let reply: EventLoopPromise<String>

    init(reply: EventLoopPromise<String>) { self.reply = reply }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let chunk = buffer.readString(length: buffer.readableBytes) ?? ""
        text.withLockedValue { $0 += chunk }
    }

    func channelInactive(context: ChannelHandlerContext) {
        reply.succeed(text.withLockedValue { $0 })
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        reply.fail(error)
        context.close(promise: nil)
    }
}
