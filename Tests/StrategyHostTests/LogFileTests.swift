import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing
@testable import StrategyHost

/// Log files like a service's: one a day, rotated by size, old ones deleted; one line an
/// event with the time (ms), level, component and strategy; JSON for machines.
@Suite("Log files: rotation, retention, format")
struct LogFileTests {
    func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-logs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("a small size limit rotates the day's file into .1, .2 ...; every line is kept")
    func rotation() throws {
        var settings = LogSettings()
        settings.folder = try folder()
        settings.maxMegabytes = 0.002  // about 2 KB
        defer { try? FileManager.default.removeItem(atPath: settings.folder) }
        let file = try LogFile(settings: settings)
        var handler = FileLogHandler(label: "runner", file: file)
        handler[metadataKey: "strategy"] = "sma_cross"
        var logger = Logger(label: "runner") { _ in handler }
        logger.logLevel = .info
        for index in 0..<200 { logger.info("event number \(index) with some text to fill the file") }
        let names = try FileManager.default.contentsOfDirectory(atPath: settings.folder).sorted()
        #expect(names.count >= 3, "\(names)")
        #expect(names.allSatisfy { $0.hasPrefix("moonwire_") && $0.hasSuffix(".log") })
        let all = try names.map { try String(contentsOfFile: settings.folder + "/" + $0, encoding: .utf8) }.joined()
        #expect(all.components(separatedBy: "\n").filter { !$0.isEmpty }.count == 200)
        let first = all.components(separatedBy: "\n")[0]
        #expect(first.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z INFO     runner \[sma_cross\] event number"#, options: .regularExpression) != nil,
                "\(first)")
    }

    @Test("at midnight (UTC) the next line starts the new day's file; the old day's keeps its lines")
    func dayChange() throws {
        var settings = LogSettings()
        settings.folder = try folder()
        defer { try? FileManager.default.removeItem(atPath: settings.folder) }
        // 2026-12-03 23:59:59.900 UTC, then 0.2 s later.
        let now = NIOLockedValueBox(Date(timeIntervalSince1970: 1_796_342_399.9))
        let file = try LogFile(settings: settings) { now.withLockedValue { $0 } }
        file.record("before midnight", level: .info, label: "runner")
        #expect(file.currentPath.hasSuffix("/moonwire_2026-12-03.log"), "\(file.currentPath)")
        now.withLockedValue { $0 = $0.addingTimeInterval(0.2) }
        file.record("after midnight", level: .info, label: "runner")
        #expect(file.currentPath.hasSuffix("/moonwire_2026-12-04.log"), "\(file.currentPath)")
        let before = try String(contentsOfFile: settings.folder + "/moonwire_2026-12-03.log", encoding: .utf8)
        let after = try String(contentsOfFile: settings.folder + "/moonwire_2026-12-04.log", encoding: .utf8)
        #expect(before.hasPrefix("2026-12-03T23:59:59.900Z") && before.contains("before midnight") && !before.contains("after midnight"), "\(before)")
        #expect(after.hasPrefix("2026-12-04T00:00:00.100Z") && after.contains("after midnight") && !after.contains("before midnight"), "\(after)")
    }

    @Test("files older than keep_days are deleted; newer ones kept")
    func retention() throws {
        var settings = LogSettings()
        settings.folder = try folder()
        settings.keepDays = 7
        defer { try? FileManager.default.removeItem(atPath: settings.folder) }
        let old = settings.folder + "/moonwire_2026-01-01.log"
        let recent = settings.folder + "/moonwire_2026-11-25.log"
        for path in [old, recent] { _ = FileManager.default.createFile(atPath: path, contents: Data("x\n".utf8)) }
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-30 * 86_400)], ofItemAtPath: old)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-2 * 86_400)], ofItemAtPath: recent)
        _ = try LogFile(settings: settings)
        #expect(!FileManager.default.fileExists(atPath: old))
        #expect(FileManager.default.fileExists(atPath: recent))
    }

    @Test("JSON lines carry time, level, component, strategy and message")
    func json() throws {
        let line = LogFile.line(format: "json", level: .warning, label: "tws-client", strategy: "hello", message: "a \"quoted\" thing")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["level"] == "warning" && object["component"] == "tws-client" && object["strategy"] == "hello")
        #expect(object["message"] == "a \"quoted\" thing" && object["time"]?.hasSuffix("Z") == true)
    }

    @Test("the logging: section is read and checked")
    func config() throws {
        let config = try HostConfig.load(yaml: "logging:\n  max_mb: 5\n  keep_days: 3\n  level: warning\n  format: json\n", source: "c.yaml")
        #expect(config.logging.maxMegabytes == 5 && config.logging.keepDays == 3 && config.logging.level == .warning && config.logging.format == "json")
        #expect(throws: HostConfigError.self) { try HostConfig.load(yaml: "logging:\n  format: xml\n", source: "c.yaml") }
    }
}
