-- attack: a table that grows until the memory cap
-- expect: memory limit
-- budget_ms: 3000
-- (8 MB at a time: the cap is reached in a few steps, long before the budget, however loaded the machine)
function on_start() local t = {} for i = 1, 1e9 do t[i] = string.rep("y", 8e6) .. i end end
