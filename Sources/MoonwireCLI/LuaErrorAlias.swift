import LuaRuntime
typealias LuaRuntimeError = LuaError
