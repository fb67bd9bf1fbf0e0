-- attack: unbounded recursion
-- expect: attack_recursion.lua:3:
local function f() return 1 + f() end
function on_start() f() end
