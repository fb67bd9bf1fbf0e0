-- attack: table.remove at 1 from a table whose __len says math.maxinteger: the stock remove shifts 2^63 nils in C, where no hook runs
-- expect: time budget exceeded
function on_start()
  table.remove(setmetatable({}, { __len = function() return math.maxinteger end }), 1)
end
