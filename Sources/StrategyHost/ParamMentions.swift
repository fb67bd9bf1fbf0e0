import Foundation

/// Which `--param` names a strategy's source never mentions: a misspelt name (`--param fsat=5`
/// for `params.fast`) would otherwise run the strategy with its default, silently, in every
/// combination of a sweep. Read from the text of the strategy file and of the modules it
/// `require`s from its folder (found by name, the way `require` finds them), before anything
/// runs. A name the text has as a whole word (`params.fast`, `params["fast"]`, `local fast`)
/// counts as mentioned; only names that appear nowhere are reported, so a strategy that builds
/// its names at run time is never warned about a name it spells out somewhere.
public enum ParamMentions {
    /// Modules read at most (a `require` loop or a huge tree stops here).
    static let maximumFiles = 200
    /// Bytes of one file read at most (the host refuses larger strategy files anyway).
    static let maximumBytes = 8 << 20

    /// The names of `names` that neither the strategy at `path` nor its modules mention; empty
    /// when there is no name, or when a file it would read is not a regular file or cannot be
    /// read (then it cannot tell; the run says what is wrong with the file).
    public static func unmentioned(_ names: [String], strategyAt path: String) -> [String] {
        guard !names.isEmpty, let texts = sources(of: path), !texts.contains(where: readsParamsWhole) else { return [] }
        return names.filter { name in !texts.contains { mentions($0, name) } }
    }

    /// Whether `text` uses `params` other than by a name it spells out (`params.fast`,
    /// `params["fast"]`): `pairs(params)`, `params[key]`, `local p = params`, `f(params)`. Then
    /// any name may be read, and none is reported. One pass over the bytes.
    static func readsParamsWhole(_ text: [UInt8]) -> Bool {
        let word = Array("params".utf8)
        func isWord(_ byte: UInt8) -> Bool { byte == 0x5F || (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A) }
        func nextVisible(_ from: Int) -> Int {
            var at = from
            while at < text.count, text[at] == 0x20 || text[at] == 0x09 || text[at] == 0x0A || text[at] == 0x0D { at += 1 }
            return at
        }
        // After `--` on its line (a comment: `-- params: fast, slow`).
        func inLineComment(_ position: Int) -> Bool {
            var index = position - 1
            while index > 0, text[index] != 0x0A {
                if text[index] == 0x2D, text[index - 1] == 0x2D { return true }
                index -= 1
            }
            return false
        }
        var at = 0
        while let found = find(word, in: text, from: at) {
            at = found + word.count
            guard found == 0 || (!isWord(text[found - 1]) && text[found - 1] != 0x2E), at == text.count || !isWord(text[at]) else { continue }
            if inLineComment(found) { continue }
            let next = nextVisible(at)
            guard next < text.count else { return true }
            if text[next] == 0x2E, next + 1 < text.count, text[next + 1] != 0x2E { continue }  // params.name (not params..x)
            if text[next] == 0x5B {  // params[ "name" ] or params[ 'name' ]; params[[ and params[key] are whole
                let inside = nextVisible(next + 1)
                if inside < text.count, text[inside] == 0x22 || text[inside] == 0x27 { continue }
            }
            return true
        }
        return false
    }

    /// The strategy's text and its modules' (breadth first, each once), as bytes; nil when one
    /// that exists is not a regular file (a FIFO would block the open) or cannot be read.
    static func sources(of path: String) -> [[UInt8]]? {
        var texts: [[UInt8]] = []
        var queue = [path], seen: Set<String> = [path]
        while !queue.isEmpty, texts.count < maximumFiles {
            let file = queue.removeFirst()
            guard let type = (try? FileManager.default.attributesOfItem(atPath: file))?[.type] as? FileAttributeType else {
                if file == path { return nil }
                continue  // a module that is not there: `require` says so when it runs
            }
            guard type == .typeRegular, let handle = FileHandle(forReadingAtPath: file),
                  let data = try? handle.read(upToCount: maximumBytes)
            else { return nil }
            try? handle.close()
            let text = [UInt8](data)
            texts.append(text)
            for module in requiredModules(text) {
                let next = LuaModuleFile.path(of: module, forStrategyAt: path)
                if seen.insert(next).inserted { queue.append(next) }
            }
        }
        return texts
    }

    /// The module names a text passes to `require` as a literal: `require("lib.signals")`,
    /// `require 'x'`. One pass over the bytes.
    static func requiredModules(_ text: [UInt8]) -> [String] {
        let word = Array("require".utf8)
        var modules: [String] = []
        var at = 0
        while let found = find(word, in: text, from: at) {
            at = found + word.count
            var cursor = at
            while cursor < text.count, text[cursor] == 0x20 || text[cursor] == 0x09 || text[cursor] == 0x28 { cursor += 1 }
            guard cursor < text.count, text[cursor] == 0x22 || text[cursor] == 0x27 else { continue }
            let quote = text[cursor]
            let start = cursor + 1
            var end = start
            while end < text.count, end - start <= 128, text[end] != quote, text[end] != 0x0A { end += 1 }
            guard end < text.count, text[end] == quote, end > start else { continue }
            let name = String(decoding: text[start..<end], as: UTF8.self)
            if LuaModuleFile.isValid(name) { modules.append(name) }
        }
        return modules
    }

    /// Whether `text` has `name` as a whole word (not inside a longer identifier: `fast` is not
    /// mentioned by `fastest`); a name with other characters than letters, digits and `_`
    /// (reachable only as `params["my-name"]`) anywhere. One pass over the bytes.
    static func mentions(_ text: [UInt8], _ name: String) -> Bool {
        let needle = Array(name.utf8)
        guard !needle.isEmpty else { return true }
        func isWord(_ byte: UInt8) -> Bool { byte == 0x5F || (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A) }
        let wholeWord = needle.allSatisfy(isWord)
        var at = 0
        while let found = find(needle, in: text, from: at) {
            let end = found + needle.count
            if !wholeWord || ((found == 0 || !isWord(text[found - 1])) && (end == text.count || !isWord(text[end]))) { return true }
            at = found + 1
        }
        return false
    }

    /// The first place of `needle` in `text` at or after `start`: a scan for its first byte,
    /// then a compare (linear in the text for a name's few bytes).
    static func find(_ needle: [UInt8], in text: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, needle.count <= text.count else { return nil }
        var index = start
        let last = text.count - needle.count
        while index <= last {
            if text[index] == first {
                var matched = 1
                while matched < needle.count, text[index + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return index }
            }
            index += 1
        }
        return nil
    }
}
