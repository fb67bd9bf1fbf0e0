import Foundation

/// A bar store's location as messages may show it: never with its password. Every error or
/// log line that names a store goes through `redacted`, also for a URL that does not parse
/// (that is when it is most often echoed).
public enum StoreLocation {
    /// `postgres://user:secret@host/db` as `postgres://user:***@host/db`: whatever stands
    /// between `://` and the last `@` after it keeps only its user; a `password=...` parameter
    /// (`?password=`, or a `key=value` connection string) shows `password=***`. A file path
    /// comes back as it is.
    public static func redacted(_ location: String) -> String {
        var text = location
        if let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].lastIndex(of: "@") {
            let credentials = text[scheme.upperBound..<at]
            if let colon = credentials.firstIndex(of: ":") {
                text.replaceSubrange(colon..<at, with: ":***")
            }
        }
        return hidingPasswordParameters(text)
    }

    /// `password=secret` (any case), up to the next `&`, space or end, as `password=***`.
    private static func hidingPasswordParameters(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let key = rest.range(of: "password=", options: .caseInsensitive) {
            out += rest[..<key.upperBound] + "***"
            rest = rest[key.upperBound...].drop { $0 != "&" && $0 != " " && $0 != ";" }
        }
        return out + rest
    }
}
