-- attack: an order at the top level of the file (a failed reload would leave it behind)
-- expect: orders.buy can only be called from a handler
-- exit: 1
orders.buy("AAPL", 1)
