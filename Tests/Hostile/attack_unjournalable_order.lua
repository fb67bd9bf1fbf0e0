-- attack: orders with a field neither TWS nor the journal can hold (a control character in
-- the OCA group's name, in the symbol): each is refused alone (at the call, or rejected once
-- its id was given), and trading goes on for this strategy and every other
-- expect: invalid_argument
-- expect: then placed
function on_start() market.subscribe("AAPL") end
function on_quote(q)
  if tried or not q.bid then return end
  tried = true
  local id, err = orders.buy("AAPL", 1, { limit = 1, oca = "group\1" })
  print("oca: " .. tostring(id) .. " " .. tostring(err and err.code))
  id, err = orders.buy({ symbol = "AAPL\1" }, 1, { limit = 1 })
  print("symbol: " .. tostring(id) .. " " .. tostring(err and err.code))
  timer.after(0.5, function()
    local later, why = orders.buy("AAPL", 1, { limit = 1 })
    print("then " .. (later and "placed" or why.code))
  end)
end
function on_error(e) print("on_error " .. e.code) end
