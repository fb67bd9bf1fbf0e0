import Foundation
import Logging
import Testing
@testable import StrategyHost

/// The log files are the user's alone, and what a strategy writes into them cannot forge a
/// line, move a terminal's cursor (`less -R`, `tail -f`) or fill the disk with one message.
@Suite("Log files: private, escaped, capped")
struct LogFileHygieneTests {
    func folder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-logs-\(UUID().uuidString)").path
    }

    func mode(_ path: String) throws -> Int {
        var info = stat()
        try #require(stat(path, &info) == 0, "\(path)")
        return Int(info.st_mode & 0o777)
    }

    @Test("the day's file, every rotated file and the folder it makes are 0600 / 0700")
    func privateFiles() throws {
        var settings = LogSettings()
        settings.folder = folder() + "/logs"
        settings.maxMegabytes = 0.002
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: settings.folder).deletingLastPathComponent().path) }
        let file = try LogFile(settings: settings)
        for index in 0..<100 { file.write("line \(index) with some text to fill the file past its size") }
        let names = try FileManager.default.contentsOfDirectory(atPath: settings.folder)
        #expect(names.count >= 3, "\(names)")
        for name in names { #expect(try mode(settings.folder + "/" + name) == 0o600, "\(name)") }
        #expect(try mode(settings.folder) == 0o700)
    }

    @Test("a log file an older version left 0644 is made 0600 when a run opens it")
    func olderFileTightened() throws {
        var settings = LogSettings()
        settings.folder = folder()
        try FileManager.default.createDirectory(atPath: settings.folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: settings.folder) }
        let day = LogFile.dayFormat.string(from: Date())
        let today = settings.folder + "/moonwire_\(day).log", yesterday = settings.folder + "/moonwire_2000-01-01.1.log"
        for path in [today, yesterday] {
            _ = FileManager.default.createFile(atPath: path, contents: Data("old\n".utf8), attributes: [.posixPermissions: 0o644])
        }
        try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: yesterday)
        let file = try LogFile(settings: settings)
        file.write("new")
        #expect(try mode(today) == 0o600)
        #expect(try mode(yesterday) == 0o600)
        #expect(try String(contentsOfFile: today, encoding: .utf8) == "old\nnew\n")
    }

    @Test("a strategy's ESC, CR and NUL are escaped in text and JSON lines, and cannot start an entry of their own")
    func escaped() throws {
        let text = LogFile.line(format: "text", level: .info, label: "strategy", strategy: "writer", message: "\u{1B}[2J\rother: forged\u{0}\nnext: forged")
        #expect(text.hasSuffix(" INFO     strategy [writer] \\e[2J\\rother: forged\\x00\n    next: forged"), "\(text)")
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
        let json = LogFile.line(format: "json", level: .info, label: "strategy", strategy: "w\u{1B}", message: "\u{1B}[2J\rx")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String])
        #expect(object["message"] == "\\e[2J\\rx" && object["strategy"] == "w\\e")
    }

    @Test("a 30 MB message is cut to 64 KB in the file, with a marker saying how much")
    func capped() throws {
        var settings = LogSettings()
        settings.folder = folder()
        defer { try? FileManager.default.removeItem(atPath: settings.folder) }
        let file = try LogFile(settings: settings)
        let handler = FileLogHandler(label: "strategy", file: file)
        let logger = Logger(label: "strategy") { _ in handler }
        logger.error("\(String(repeating: "x", count: 30 * 1_048_576))")
        let written = try String(contentsOfFile: file.currentPath, encoding: .utf8)
        #expect(written.utf8.count < 66 * 1024, "\(written.utf8.count) bytes")
        #expect(written.hasSuffix("x … [29.9 MB cut]\n"), "\(written.suffix(80))")
    }
}
