-- attack: a history span of billions of bars (100 Y of 1-second bars: 876,000 requests, a core busy for hours, the call never answered)
-- expect: bars; one call returns at most 600000
-- expect: numbers_history_span still trading: true
function on_start()
  timer.after(0.05, function()
    local bars, err = market.history("AAPL", { duration = "100 Y", bar = "1 secs" })
    print("numbers_history_span: " .. (err and err.message or ("got " .. #bars .. " bars")))
    local id = orders.buy("AAPL", 1, { limit = 1 })
    print("numbers_history_span still trading: " .. tostring(id ~= nil))
  end)
end
