-- The strategy that shares the process with each attack: it must keep receiving quotes.
local quotes = 0
function on_start() market.subscribe("MSFT") end
function on_quote(q)
  quotes = quotes + 1
  if quotes % 20 == 0 then print("well_behaved quotes", quotes) end
end
