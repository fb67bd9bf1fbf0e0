-- attack: a cyclic table as an order
-- expect: contains a cycle at order.self
function on_start() local o = { symbol = "AAPL", side = "BUY", qty = 1 } o.self = o orders.place(o) end
