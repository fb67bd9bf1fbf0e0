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

    @Test("a strategy that reads params whole (pairs, a key in a variable, passed on) is never told a name is unmentioned")
    func paramsReadWhole() throws {
        for text in ["for k, v in pairs(params) do print(k, v) end\n", "local key = 'fa' .. 'st'\nlocal fast = params[key]\n",
                     "local p = params\nlocal fast = p.fast\n", "setup(params)\n", "local fast = params [ name ]\n", "return params\n",
                     "local n = params..''\n"] {
            let url = try folder(["s.lua": "local slow = params.slow\n" + text])
            defer { try? FileManager.default.removeItem(at: url) }
            #expect(ParamMentions.unmentioned(["fsat", "slow"], strategyAt: url.appendingPathComponent("s.lua").path).isEmpty, "\(text)")
        }
        // Spelt-out reads only (with spaces, line ends, and a word that merely contains params):
        // the misspelt name is still found.
        let url = try folder(["s.lua": "-- params: slow, fast\nlocal a = params . slow -- params below\nlocal b = params[ \"fast\" ]\nlocal c = params\n['x']\nlocal myparams = 1\nx.params = 2\n"])
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(ParamMentions.unmentioned(["fsat", "slow", "fast"], strategyAt: url.appendingPathComponent("s.lua").path) == ["fsat"])
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

    @Test("a FIFO (strategy or module) is never opened, an unreadable module leaves it unable to tell: no note, no hang")
    func notRegularFiles() throws {
        let url = try folder(["s.lua": "if false then require(\"m\") end\nlocal fast = params.fast\n", "t.lua": "require('u')\n"])
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(mkfifo(url.appendingPathComponent("m.lua").path, 0o600) == 0)
        #expect(mkfifo(url.appendingPathComponent("fifo.lua").path, 0o600) == 0)
        #expect(ParamMentions.unmentioned(["fsat"], strategyAt: url.appendingPathComponent("s.lua").path).isEmpty)
        #expect(ParamMentions.unmentioned(["fsat"], strategyAt: url.appendingPathComponent("fifo.lua").path).isEmpty)
        // Nothing is read without a name (a run without --param opens no file here).
        #expect(ParamMentions.unmentioned([], strategyAt: url.appendingPathComponent("fifo.lua").path).isEmpty)
        try Data("x = params.secret\n".utf8).write(to: url.appendingPathComponent("u.lua"))
        #expect(chmod(url.appendingPathComponent("u.lua").path, 0) == 0)
        let unreadable = access(url.appendingPathComponent("u.lua").path, R_OK) != 0  // root reads it anyway
        #expect(ParamMentions.unmentioned(["secret"], strategyAt: url.appendingPathComponent("t.lua").path).isEmpty == unreadable)
    }

    @Test("a large file: 4 MB without the name, and 20,000 requires of no module (one pass: the old scan took minutes here)")
    func largeFiles() throws {
        let big = String(repeating: "-- ab ab ab ab ab ab ab ab\n", count: 150_000)
        let requires = String(repeating: "require x\n", count: 20_000)
        let url = try folder(["big.lua": big + requires + "local fast = params.fast\n"])
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(ParamMentions.unmentioned(["fsat", "fast", "a"], strategyAt: url.appendingPathComponent("big.lua").path) == ["fsat", "a"])
    }
}
