-- attack: table.insert at 1 into a table whose __len says math.maxinteger - 1: the stock insert shifts 2^63 nils in C, where no hook runs
-- expect: time budget exceeded
function on_start()
  table.insert(setmetatable({}, { __len = function() return math.maxinteger - 1 end }), 1, "x")
end
