-- attack: string.rep in a loop that never ends (C and Lua time together)
-- expect: time budget exceeded
function on_start() while true do local s = string.rep("ab", 1e5, ",") end end
