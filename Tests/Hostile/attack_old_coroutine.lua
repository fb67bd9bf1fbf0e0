-- attack: a coroutine made at load time, resumed in a handler, spinning
-- expect: time budget exceeded
local spinner = coroutine.create(function() while true do end end)
function on_start() coroutine.resume(spinner) while true do end end
