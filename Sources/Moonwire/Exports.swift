// What an embedding application needs besides the facade: the configuration types, the Lua
// values extensions exchange, the records of orders and fills, the paper gateway's settings.
@_exported import LuaRuntime
@_exported import MarketHistory
@_exported import PaperGateway
@_exported import StrategyHost
@_exported import TradingState
