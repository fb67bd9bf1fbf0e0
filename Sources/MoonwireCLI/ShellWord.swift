import Foundation

/// A word as a shell reads it back: a command line Moonwire prints for the user to paste
/// (the sweep's best combination run alone) must give the strategy the same param values,
/// spaces, quotes and control characters included.
enum ShellWord {
    /// `word` as is when no shell character is in it; else in single quotes (a quote inside
    /// as `'\''`); with a control character (a line feed in a value), bash's `$'...'` with
    /// escapes, so the line printed stays one line.
    static func quoted(_ word: String) -> String {
        if !word.isEmpty, word.unicodeScalars.allSatisfy(isPlain) { return word }
        guard word.unicodeScalars.contains(where: isControl) else {
            return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }
        var out = "$'"
        for scalar in word.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where isControl(scalar):
                // \u, not \x: bash's \xHH would take a hex digit after it as part of the escape.
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "'"
    }

    private static func isPlain(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "_", "@", "%", "+", "=", ":", ",", ".", "/", "-": true
        default: false
        }
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}"
    }
}
