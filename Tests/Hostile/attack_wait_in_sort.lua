-- attack: market.history inside a table.sort comparator (cannot yield there)
-- expect: market.history waits for TWS, so it can only be called directly in a handler
function on_start() table.sort({3, 2, 1}, function(a, b) market.history("AAPL") return a < b end) end
