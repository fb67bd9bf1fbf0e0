-- attack: print of self-referencing and endlessly __tostring-ing tables
-- expect: printed a cycle
-- expect: time budget exceeded
function on_start()
  local t = {} t.self = t
  print("printed a cycle", t)
  print(setmetatable({}, { __tostring = function() while true do end end }))
end
