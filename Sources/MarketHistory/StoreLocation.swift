import Foundation

/// A bar store's location as messages may show it: never with its password. Every error or
/// log line that names a store goes through `redacted`, also for a URL that does not parse
/// (that is when it is most often echoed).
public enum StoreLocation {
    /// `postgres://user:secret@host/db` as `postgres://***@host/db`. Anything that starts
    /// like a PostgreSQL URL (`postgres`, `postgresql`, in any case and however mistyped:
    /// `postgres//u:p@h`, `postgresql:/u:p@h`, `postgres://u:p`) hides everything between its
    /// scheme and the last `@` (user and password: a password may be percent-encoded or stand
    /// where the user should), or, with no `@`, an authority that is not `host:port`. A
    /// `password=...` parameter (`?password=`, or a `key=value` connection string) shows
    /// `password=***`. A file path comes back as it is.
    public static func redacted(_ location: String) -> String {
        guard looksLikePostgres(location) else { return hidingPasswordParameters(location) }
        // The scheme: the word, then the run of ':' and '/' that follows it.
        let word = location.lowercased().hasPrefix("postgresql") ? 10 : 8
        var afterScheme = location.index(location.startIndex, offsetBy: word)
        while afterScheme < location.endIndex, location[afterScheme] == ":" || location[afterScheme] == "/" {
            afterScheme = location.index(after: afterScheme)
        }
        let scheme = location[..<afterScheme]
        let rest = location[afterScheme...]
        guard !rest.isEmpty else { return location }
        if let at = rest.lastIndex(of: "@") {
            return hidingPasswordParameters(scheme + "***" + rest[at...])
        }
        // No `@`: a `host:port` shows; `user:password` (no host at all) does not.
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        if let colon = authority.firstIndex(of: ":"), !authority[authority.index(after: colon)...].allSatisfy(\.isNumber) {
            return scheme + "***" + rest[authority.endIndex...]
        }
        return hidingPasswordParameters(location)
    }

    /// Whether `location` is meant as a PostgreSQL URL (well formed or not): it starts with
    /// `postgres`, in any case. Such a text is never taken for a SQLite file's path.
    public static func looksLikePostgres(_ location: String) -> Bool {
        location.lowercased().hasPrefix("postgres")
    }

    /// `message` (an error that may quote the location, or parts of it) with the location's
    /// credentials hidden: the location itself as `redacted` shows it, and its user-and-password
    /// part, as written and percent-decoded, as `***`.
    public static func scrubbing(_ message: String, of location: String) -> String {
        var text = message.replacingOccurrences(of: location, with: redacted(location))
        if looksLikePostgres(location), let scheme = location.range(of: ":"), let at = location.lastIndex(of: "@"), scheme.upperBound < at {
            let credentials = String(location[scheme.upperBound..<at]).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            for secret in [credentials, credentials.removingPercentEncoding ?? credentials] where secret.count >= 3 {
                text = text.replacingOccurrences(of: secret, with: "***")
                // The password alone (after the user's colon), as a driver may quote it.
                if let colon = secret.firstIndex(of: ":") {
                    let password = String(secret[secret.index(after: colon)...])
                    if password.count >= 3 { text = text.replacingOccurrences(of: password, with: "***") }
                }
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
