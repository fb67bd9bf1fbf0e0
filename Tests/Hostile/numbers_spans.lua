-- attack: bar sizes and durations whose seconds overflowed Int: "999999999999999999 months", "99999999999999999 Y"
-- expect: numbers_spans: market.subscribe: options.bars "999999999999999999 months" must be a multiple of 5 seconds
-- expect: numbers_spans: market.history: options.duration "99999999999999999 Y" is not a duration
-- expect: numbers_spans: market.history: options.bar "9223372036854775807 secs" is not a bar size
-- expect: numbers_spans: market.history: options.duration is empty
-- expect: numbers_spans still answers: a list of bars
function on_start()
  local function say(_, err) print("numbers_spans: " .. (err and err.message or "no error")) end
  say(market.subscribe("AAPL", { bars = "999999999999999999 months" }))
  say(market.history("AAPL", { duration = "99999999999999999 Y" }))
  say(market.history("AAPL", { duration = "1 D", bar = "9223372036854775807 secs" }))
  say(market.history("AAPL", { duration = "" }))
  local bars = market.history("AAPL", { duration = "1800 S", bar = "1 min" })
  -- How many depends on the hour (the paper history keeps trading hours): a list all the same.
  print("numbers_spans still answers: " .. (type(bars) == "table" and "a list of" or "no") .. " bars")
end
