-- attack: exponential backtracking through string.gmatch
-- expect: time budget exceeded
function on_start() for w in string.gmatch(string.rep("a", 40), ("(.-)"):rep(12) .. "b") do end end
