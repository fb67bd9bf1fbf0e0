import Foundation
import Testing
@testable import StrategyHost

/// `~` is `$HOME`, as in the shell; the password database's home only when `HOME` is unset.
@Suite("The user's home: $HOME first")
struct HomeFolderTests {
    @Test("HOME set: it; unset or empty: the account's home")
    func home() {
        #expect(HostConfig.homeFolder(environment: ["HOME": "/elsewhere/me"]) == "/elsewhere/me")
        let account = FileManager.default.homeDirectoryForCurrentUser.path
        #expect(HostConfig.homeFolder(environment: [:]) == account)
        #expect(HostConfig.homeFolder(environment: ["HOME": ""]) == account)
    }

    @Test("the user's config file is looked for under $HOME/.config when XDG_CONFIG_HOME is unset")
    func configUnderHome() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-home-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let file = home.appendingPathComponent(".config/moonwire/moonwire.yaml")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try "connection:\n  client_id: 3\n".write(to: file, atomically: true, encoding: .utf8)
        let found = try HostConfig.findConfig(flag: nil, environment: ["HOME": home.path], workingFolder: home.path)
        #expect(found.path == file.path && found.source == "the user's config folder", "\(found)")
    }
}
