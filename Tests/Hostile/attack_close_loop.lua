-- attack: a to-be-closed variable whose __close never returns, closed by the host after an error (bounded by the budget)
-- expect: attack_close_loop.lua:5: boom
function on_start()
  local guard <close> = setmetatable({}, { __close = function() while true do end end })
  error("boom")
end
