-- attack: a table that grows until the memory cap
-- expect: memory limit
-- budget_ms: 1000
function on_start() local t = {} for i = 1, 1e9 do t[i] = string.rep("y", 1e6) .. i end end
