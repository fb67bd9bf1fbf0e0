-- attack: exponential backtracking through string.gsub, as a method call on a string
-- expect: time budget exceeded
function on_start() (string.rep("a", 40)):gsub(("(.-)"):rep(12) .. "b", "x") end
