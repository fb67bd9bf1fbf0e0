-- attack: every quote handler spins past its budget, while the well-behaved strategy beside it keeps receiving quotes
-- expect: time budget exceeded
function on_start() market.subscribe("AAPL") end
function on_quote(q) local t = {} for i = 1, math.maxinteger do t[i % 64 + 1] = i end end
