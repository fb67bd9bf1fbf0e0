-- attack: 500 references to one 20 MB string in store: 20 MB in Lua, 10 GB once the host copies it
-- expect: store: value larger than the memory cap (64 MiB) at store.x[
-- budget_ms: 1000
function on_start()
  local s = string.rep("x", 20e6)
  local t = {}
  for i = 1, 500 do t[i] = s end
  store.x = t
  timer.after(0.05, function() end)
end
