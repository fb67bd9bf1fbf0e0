-- attack: a table naming AAPL with a con_id TWS does not know: its "no such instrument" stood for plain AAPL, and every strategy's AAPL orders were refused for the rest of the run
-- expect: poisoned table refused: unknown_instrument
-- expect: plain AAPL after it: an order id
function on_start()
  timer.after(0.05, function()
    local id, err = orders.buy({ symbol = "AAPL", con_id = 2147483647 }, 1, { limit = 10 })
    print("poisoned table refused: " .. (err and err.code or ("id " .. tostring(id))))
    local plain, why = orders.buy("AAPL", 1, { limit = 10 })
    print("plain AAPL after it: " .. (plain and "an order id" or (why and why.code or "nil")))
  end)
end
