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
