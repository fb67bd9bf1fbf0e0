-- attack: exponential backtracking in string.find (C, no hook before)
-- expect: time budget exceeded
function on_start() string.find(string.rep("a", 40), ("(.-)"):rep(12) .. "b") end
