/// A failure while running (no connection, a refusal by a safety check, a strategy that
/// does not load): printed as `Error: ...` with no usage text, exit status 1. Usage mistakes
/// stay `ValidationError`s, which print the usage.
struct RuntimeError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
