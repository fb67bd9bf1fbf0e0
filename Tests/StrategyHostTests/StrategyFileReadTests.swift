import Foundation
import Testing
@testable import StrategyHost

/// A strategy file that cannot be read says why, in a user's words.
@Suite("Reading a strategy file")
struct StrategyFileReadTests {
    static func message(_ path: String) -> String {
        do {
            _ = try Strategy.read(path)
            return "read"
        } catch {
            return "\(error)"
        }
    }

    @Test("missing, a folder, unreadable: each named")
    func reasons() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-read-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(Self.message(folder.appendingPathComponent("nope.lua").path).contains("cannot read the strategy file (no such file)"))
        #expect(Self.message(folder.path).contains("cannot read the strategy file (it is a folder)"))
        let locked = folder.appendingPathComponent("locked.lua")
        try "function on_start() end".write(to: locked, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: locked.path)
        // Root reads it anyway (Scripts/test-swift runs the suites as an ordinary user).
        let expected = getuid() == 0 ? "read" : "cannot read the strategy file (permission denied)"
        #expect(Self.message(locked.path).contains(expected), "\(Self.message(locked.path))")
    }
}
