-- attack: numbers in an instrument table that trapped converting to an integer: con_id 1e300, math.maxinteger, 0/0; multiplier 1e300; strike inf
-- expect: numbers_instrument: market.quote: argument 1 (instrument).con_id 1e+300 is out of range
-- expect: numbers_instrument: market.quote: argument 1 (instrument).con_id 9223372036854775807 is out of range
-- expect: numbers_instrument: market.quote: argument 1 (instrument).con_id nan is out of range
-- expect: numbers_instrument: market.quote: argument 1 (instrument).multiplier 1e+300 is out of range
-- expect: numbers_instrument: account.position: argument 1 (instrument).strike inf is out of range
-- expect: numbers_instrument: orders.buy: argument 1 (instrument).con_id -9.223372036854776e+18 is out of range
-- expect: numbers_instrument still quoted
function on_start()
  local function say(_, err) print("numbers_instrument: " .. (err and err.message or "no error")) end
  say(market.quote{ symbol = "AAPL", con_id = 1e300 })
  say(market.quote{ symbol = "AAPL", con_id = math.maxinteger })
  say(market.quote{ symbol = "AAPL", con_id = 0/0 })
  say(market.quote{ symbol = "AAPL", multiplier = 1e300 })
  say(account.position{ symbol = "AAPL", type = "OPT", expiry = "20261218", right = "C", strike = 1/0 })
  say(orders.buy({ symbol = "AAPL", con_id = -2^63 }, 1, { limit = 1 }))
  market.subscribe("AAPL")
end
function on_quote(q) if not said then said = true print("numbers_instrument still quoted") end end
