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
    /// when the file cannot be read (the run says why).
    public static func unmentioned(_ names: [String], strategyAt path: String) -> [String] {
        let texts = sources(of: path)
        guard !texts.isEmpty else { return [] }
        return names.filter { name in !texts.contains { mentions($0, name) } }
    }

    /// The strategy's text and its modules' (breadth first, each once).
    static func sources(of path: String) -> [String] {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        var texts: [String] = []
        var queue = [path], seen: Set<String> = [path]
        while !queue.isEmpty, texts.count < maximumFiles {
            let file = queue.removeFirst()
            guard let handle = FileHandle(forReadingAtPath: file) else { continue }
            let data = (try? handle.read(upToCount: maximumBytes)) ?? nil
            try? handle.close()
            guard let data else { continue }
            let text = String(decoding: data, as: UTF8.self)
            texts.append(text)
            for module in requiredModules(text) {
                let next = folder.appendingPathComponent(module.replacingOccurrences(of: ".", with: "/") + ".lua").path
                if seen.insert(next).inserted { queue.append(next) }
            }
        }
        return texts
    }

    /// The module names a text passes to `require` as a literal: `require("lib.signals")`,
    /// `require 'x'`.
    static func requiredModules(_ text: String) -> [String] {
        var modules: [String] = []
        var rest = Substring(text)
        while let found = rest.range(of: "require") {
            rest = rest[found.upperBound...]
            var cursor = rest.drop { $0 == " " || $0 == "\t" || $0 == "(" }
            guard let quote = cursor.first, quote == "\"" || quote == "'" else { continue }
            cursor = cursor.dropFirst()
            let name = cursor.prefix { $0 != quote && $0 != "\n" }
            if !name.isEmpty, name.count <= 128, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }), !name.contains("..") {
                modules.append(String(name))
            }
        }
        return modules
    }

    /// Whether `text` has `name` as a whole word (not inside a longer identifier: `fast` is not
    /// mentioned by `fastest`); a name with other characters than letters, digits and `_`
    /// (reachable only as `params["my-name"]`) anywhere.
    static func mentions(_ text: String, _ name: String) -> Bool {
        guard !name.isEmpty else { return true }
        func isWord(_ c: Character) -> Bool { c == "_" || (c.isASCII && (c.isLetter || c.isNumber)) }
        guard name.allSatisfy(isWord) else { return text.contains(name) }
        var rest = Substring(text)
        while let found = rest.range(of: name) {
            let before = found.lowerBound > text.startIndex ? text[text.index(before: found.lowerBound)] : " "
            let after = found.upperBound < text.endIndex ? text[found.upperBound] : " "
            if !isWord(before) && !isWord(after) { return true }
            rest = text[found.upperBound...]
        }
        return false
    }
}
