import Foundation
import StrategyHost
import Testing

/// `--param` names a strategy's source never mentions (a misspelt name): found in the file and
/// the modules it requires, never reported for a name it spells out somewhere.
@Suite("Params the strategy never mentions")
struct ParamMentionsTests {
    func folder(_ files: [String: String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-params-\(UUID().uuidString)")
        for (name, text) in files {
            let file = url.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: file)
        }
        return url
    }

    @Test("a misspelt name is reported; names read as params.x, params[\"x\"] or through a module are not")
    func misspelt() throws {
        let url = try folder([
            "s.lua": "local lib = require(\"lib.signals\")\nlocal fast = params.fast or 10\nlocal w = params[\"my-window\"]\n",
            "lib/signals.lua": "local M = {}\nM.slow = params.slow or 30\nreturn require 'lib.deep'\n",
            "lib/deep.lua": "return { t = params.threshold }\n",
        ])
        defer { try? FileManager.default.removeItem(at: url) }
        let path = url.appendingPathComponent("s.lua").path
        #expect(ParamMentions.unmentioned(["fast", "slow", "threshold", "my-window", "fsat", "fastest", "my"], strategyAt: path) == ["fsat", "fastest"])
    }

    @Test("a part of a longer word is no mention; a require loop and a missing module end; an unreadable file says nothing")
    func edges() throws {
        let url = try folder([
            "s.lua": "local fastest = params.fastest\nrequire('s')\nrequire(\"missing.module\")\nrequire(\"../etc/passwd\")\n",
        ])
        defer { try? FileManager.default.removeItem(at: url) }
        let path = url.appendingPathComponent("s.lua").path
        #expect(ParamMentions.unmentioned(["fast", "fastest", "est"], strategyAt: path) == ["fast", "est"])
        #expect(ParamMentions.unmentioned(["fast"], strategyAt: url.appendingPathComponent("nope.lua").path).isEmpty)
    }
}
