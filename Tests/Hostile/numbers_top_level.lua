-- attack: the same numbers at a file's top level, where `moonwire check` runs them too
-- expect: numbers_top_level: market.quote: argument 1 (instrument).con_id 1e+300 is out of range
-- expect: numbers_top_level: market.quote: argument 1 (instrument).con_id 9223372036854775807 is out of range
-- expect: numbers_top_level: market.quote: argument 1 (instrument).multiplier 1e+300 is out of range
-- expect: numbers_top_level: market.history: options.duration "99999999999999999 Y" is not a duration
-- expect: numbers_top_level: orders.buy: argument 1 (instrument).con_id nan is out of range
-- expect: orders.buy can only be called from a handler
-- expect: timer.after can only be called from a handler
-- expect: numbers_top_level loaded
local function say(_, err) print("numbers_top_level: " .. (err and err.message or "no error")) end
say(market.quote{ symbol = "AAPL", con_id = 1e300 })
say(market.quote{ symbol = "AAPL", con_id = math.maxinteger })
say(market.quote{ symbol = "AAPL", multiplier = 1e300 })
say(market.history("AAPL", { duration = "99999999999999999 Y" }))
say(orders.buy({ symbol = "AAPL", con_id = 0/0 }, 1, { limit = 1e20 }))
print("numbers_top_level: " .. select(2, pcall(orders.buy, "AAPL", 1e19)))
print("numbers_top_level: " .. select(2, pcall(timer.after, 1e10, function() end)))
function on_start() print("numbers_top_level loaded") end
