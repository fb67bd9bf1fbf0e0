import Foundation
import NIOPosix
import Testing
@testable import StrategyHost

/// The control channel's folder, registrations and peer checks (the end-to-end attacks, with
/// other users, are in Tests/Conformance/test_control_channel.py).
@Suite("Control channel: private folder, registrations, who is on the other end")
struct ControlChannelTests {
    static func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mc-\(UUID().uuidString.prefix(8))")  // short: socket paths fit in 108 bytes under a long TMPDIR
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test("a control folder open to others, or a link, is refused with its path, owner and mode")
    func folderNotPrivate() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let journal = folder.appendingPathComponent("j.sqlite").path
        try FileManager.default.createDirectory(atPath: journal + ".control", withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o755])
        #expect { _ = try ControlChannel.registrations(journal: journal) } throws: { error in
            "\(error)".contains("the control folder \(journal).control is not private to you") && "\(error)".contains("mode 0755")
        }
        let linked = folder.appendingPathComponent("k.sqlite").path
        let elsewhere = folder.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try FileManager.default.createSymbolicLink(atPath: linked + ".control", withDestinationPath: elsewhere.path)
        #expect { _ = try ControlChannel.registrations(journal: linked) } throws: { "\($0)".contains("a symbolic link") }
        // No folder: no run, nothing made by asking.
        #expect(try ControlChannel.registrations(journal: folder.appendingPathComponent("none.sqlite").path).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("none.sqlite.control").path))
    }

    @Test("runs are found by registration; a stale one goes, a socket nobody registered stays, a peer that is not the registered process is refused")
    func registrations() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let journal = folder.appendingPathComponent("j.sqlite").path
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await ControlChannel.serve(journal: journal, group: group) { command in "pong \(command)" }
        let place = ControlChannel.place(journal: journal)
        var info = stat()
        #expect(lstat(place.folder, &info) == 0 && info.st_mode & 0o777 == 0o700)

        // A killed run: its process is gone, its socket refuses.
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run()
        dead.waitUntilExit()
        let stalePid = dead.processIdentifier
        try Self.boundThenClosed(place.socket(pid: stalePid))
        try ControlChannel.register(.init(pid: stalePid, socket: place.socket(pid: stalePid), journal: place.journal),
                                    at: place.registration(pid: stalePid))
        // A socket nobody registered.
        try Self.boundThenClosed(place.socket(pid: 1))
        // A registration of a live process (our parent) whose socket we serve: the peer is not it.
        let parent = getppid()
        let impostor = try await ControlChannel.serve(journal: folder.appendingPathComponent("other.sqlite").path, group: group) { _ in
            Issue.record("a command reached the impostor")
            return "impostor"
        }
        // Where a run of the parent would have its socket: beside the registration, or (a path
        // too long for a socket under a long TMPDIR) in a private folder of ours under /tmp.
        let parentSocket = impostor.socket.hasPrefix(ControlChannel.temporaryPrefix)
            ? URL(fileURLWithPath: impostor.socket).deletingLastPathComponent().appendingPathComponent("\(parent).sock").path
            : place.socket(pid: parent)
        #expect(rename(impostor.socket, parentSocket) == 0)
        try ControlChannel.register(.init(pid: parent, socket: parentSocket, journal: place.journal),
                                    at: place.registration(pid: parent))

        let answers = try await ControlChannel.ask("status", journal: journal, group: group, timeout: 10)
        let byPid = Dictionary(answers.map { ($0.pid, $0.answer) }, uniquingKeysWith: { first, _ in first })
        guard case let .replied(text)? = byPid[getpid()] else { Issue.record("the real run did not answer: \(answers)"); return }
        #expect(text == "pong status\n")
        guard case .gone? = byPid[stalePid] else { Issue.record("the stale run is not gone: \(answers)"); return }
        #expect(!FileManager.default.fileExists(atPath: place.socket(pid: stalePid)))
        #expect(!FileManager.default.fileExists(atPath: place.registration(pid: stalePid)))
        #expect(FileManager.default.fileExists(atPath: place.socket(pid: 1)), "a socket nobody registered stays")
        guard case let .failed(why)? = byPid[parent] else { Issue.record("the impostor was trusted: \(answers)"); return }
        #expect(why.contains("is served by process \(getpid())") && why.contains("nothing sent"))
        #expect(byPid.count == 3)

        await impostor.close()
        unlink(parentSocket)
        ControlChannel.removeOwnTemporaryFolder(of: parentSocket)
        await server.close()
        #expect(!FileManager.default.fileExists(atPath: place.socket(pid: getpid())))
        #expect(!FileManager.default.fileExists(atPath: place.registration(pid: getpid())))
    }

    static func boundThenClosed(_ path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { bytes in
            for (index, byte) in path.utf8.prefix(bytes.count - 1).enumerated() { bytes[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw ControlChannelError(message: "cannot bind \(path)") }
    }
}
