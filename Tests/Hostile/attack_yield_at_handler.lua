-- attack: coroutine.yield at the level of a handler (leaked the coroutine before)
-- expect: coroutine.yield at the level of a handler
function on_start() coroutine.yield() end
