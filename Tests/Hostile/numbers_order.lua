-- attack: order terms that trapped formatting the risk gate's message (limit 1e20, qty 1e19), and -0, NaN, inf, math.maxinteger
-- expect: numbers_order: orders.buy: options.limit 1e+20 is out of range
-- expect: numbers_order: orders.buy: argument 2 (qty) 1e+19 is out of range
-- expect: numbers_order: orders.sell: argument 2 (qty) -0 is out of range
-- expect: numbers_order: orders.place: order.qty 9.223372036854776e+18 is out of range
-- expect: numbers_order: orders.bracket: legs.take_profit inf is out of range
-- expect: numbers_order: orders.modify: changes.qty nan is out of range
-- expect: numbers_order: orders.get: argument 1 (id) 1e+300 is out of range
-- expect: numbers_order still trading: true
function on_start()
  local function say(_, err) print("numbers_order: " .. (err and err.message or "no error")) end
  say(orders.buy("AAPL", 1, { limit = 1e20 }))
  say(orders.buy("AAPL", 1e19))
  say(orders.sell("AAPL", -0.0, { limit = 1 }))
  say(orders.place{ symbol = "AAPL", side = "BUY", qty = math.maxinteger, limit = 1 })
  say(orders.bracket("AAPL", 1, { entry = 1, take_profit = 1/0, stop_loss = 0.5 }))
  local resting = orders.buy("AAPL", 1, { limit = 1 })
  say(orders.modify(resting, { qty = 0/0 }))
  say(orders.get(1e300))
  print("numbers_order still trading: " .. tostring(orders.buy("AAPL", 1, { limit = 1 }) ~= nil))
end
