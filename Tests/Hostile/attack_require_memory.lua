-- attack: require inside a handler used to lift the memory cap for the rest of it
-- expect: memory limit
-- budget_ms: 1000
function on_start()
  require("hostile_module")
  local t = {}
  for i = 1, 1e9 do t[i] = string.rep("x", 1e6) .. i end
end
