import Foundation
import Testing
@testable import TradingState

/// The journal holds the account's orders and fills: its file, -wal and -shm are the owner's
/// alone (0600), whatever the umask; an older journal left 0644 is made 0600 when opened.
@Suite("Journal files are private")
struct JournalPermissionTests {
    static func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int).map { $0 & 0o777 }
    }

    @Test("a new journal, its -wal and its -shm are created 0600")
    func newJournalIsPrivate() throws {
        let path = temporaryPath("private")
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        // A permissive umask, as many systems have: the files must not inherit it.
        let previous = umask(0o022)
        defer { umask(previous) }
        let journal = try Journal(path: path)
        journal.recordUsedId(5)  // a write: the -wal and -shm exist
        for file in [path, path + "-wal", path + "-shm"] {
            #expect(Self.mode(file) == 0o600, "\(file) is \(Self.mode(file).map { String($0, radix: 8) } ?? "missing")")
        }
        let markers = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
            .filter { $0.hasPrefix((path as NSString).lastPathComponent + ".open.") }
        for marker in markers {
            let full = (path as NSString).deletingLastPathComponent + "/" + marker
            #expect(Self.mode(full) == 0o600, "\(marker)")
        }
        journal.close()
    }

    @Test("a journal an older version left 0644 is made 0600 when opened")
    func olderJournalIsMadePrivate() throws {
        let path = temporaryPath("older")
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        do {
            let journal = try Journal(path: path)
            journal.recordUsedId(5)
            journal.close()
        }
        for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        }
        let journal = try Journal(path: path)
        journal.recordUsedId(6)
        for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
            #expect(Self.mode(file) == 0o600, "\(file)")
        }
        #expect(journal.highestUsedId() == 6)
        journal.close()
    }

}

/// Tests that need root to stage the attack (a file given to another user). Scripts/test-swift
/// runs the suites as an ordinary user, then the `AsRoot` suites again as root.
@Suite("Journal files are private: another user's file (as root)")
struct JournalPermissionAsRootTests {
    @Test("a -wal or -shm another user made first (open to all, in a shared folder) is refused, naming it; nothing is written through it",
          .enabled(if: getuid() == 0, "root gives the file to another user: the attack of one who created it first"),
          arguments: ["-wal", "-shm"])
    func anotherUsersFileIsRefused(_ suffix: String) throws {
        let path = temporaryPath("planted")
        defer { for end in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + end) } }
        let planted = path + suffix
        #expect(FileManager.default.createFile(atPath: planted, contents: Data(), attributes: [.posixPermissions: 0o666]))
        chmod(planted, 0o666)
        #expect(chown(planted, 65534, 65534) == 0)
        do {
            let journal = try Journal(path: path)
            journal.close()
            Issue.record("a journal whose \(suffix.isEmpty ? "file" : suffix) belongs to another user was opened")
        } catch {
            #expect("\(error)".contains("\(planted) is not a file of yours"), "\(error)")
            #expect("\(error)".contains("mode 0666"), "\(error)")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: planted)[.size] as? Int) ?? -1
        #expect(size == 0, "nothing was written into the planted file")
    }
}
