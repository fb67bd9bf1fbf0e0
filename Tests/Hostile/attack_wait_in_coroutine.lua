-- attack: market.history inside a coroutine the strategy made
-- expect: market.history waits for TWS, so it can only be called directly in a handler
function on_start() coroutine.wrap(function() market.history("AAPL") end)() end
