import Foundation

/// Where `require("lib.signals")` finds a module: `lib/signals.lua` in the strategy's folder.
/// One rule for the host's `require` and for what reads a strategy's modules without running
/// them (`ParamMentions`).
enum LuaModuleFile {
    /// Whether `name` may be required: letters, digits, `_` and `.` (no `..`), at most 128 bytes.
    static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 128 && name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." })
            && !name.contains("..")
    }

    /// The file of module `name` for the strategy at `strategyPath`.
    static func path(of name: String, forStrategyAt strategyPath: String) -> String {
        URL(fileURLWithPath: strategyPath).deletingLastPathComponent()
            .appendingPathComponent(name.replacingOccurrences(of: ".", with: "/") + ".lua").path
    }
}
