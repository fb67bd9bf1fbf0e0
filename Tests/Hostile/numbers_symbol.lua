-- attack: an order on a symbol with a control character (it got an id, then the journal refused it and closed trading for every strategy)
-- expect: numbers_symbol: orders.buy: argument 1 (instrument).symbol contains a character TWS does not accept (printable ASCII only): "AAPL\u{01}"
-- expect: numbers_symbol: orders.place: order.symbol.exchange contains a character TWS does not accept
-- expect: numbers_symbol: orders.sell: options.oca contains a character TWS does not accept
-- expect: numbers_symbol: orders.bracket: argument 1 (instrument).currency is 1048576 bytes long (at most 64)
-- expect: is not an instrument
-- expect: numbers_symbol still trading: true
function on_start()
  local function say(_, err) print("numbers_symbol: " .. (err and err.message or "no error")) end
  say(orders.buy({ symbol = "AAPL\1" }, 1, { limit = 10 }))
  say(orders.place{ symbol = { symbol = "AAPL", exchange = "SMART\0" }, side = "BUY", qty = 1, limit = 10 })
  say(orders.sell("AAPL", 1, { limit = 1000, oca = "group\27[2J" }))
  say(orders.bracket({ symbol = "AAPL", currency = string.rep("U", 1 << 20) }, 1, { take_profit = 2, stop_loss = 0.5 }))
  local ok, message = pcall(orders.buy, "ÄPFEL", 1, { limit = 10 })
  print("numbers_symbol: " .. tostring(message))
  print("numbers_symbol still trading: " .. tostring(orders.buy("AAPL", 1, { limit = 10 }) ~= nil))
end
