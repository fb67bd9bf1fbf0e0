@testable import LuaRuntime

/// The error a run failed with; nil when it finished or waits. (The Lua runtime suites' own
/// way to ask, one for them all.)
func failure(_ outcome: LuaState.Outcome) -> LuaError? {
    if case let .failed(error) = outcome { return error }
    return nil
}
