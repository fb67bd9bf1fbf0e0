-- attack: a __gc finalizer with an endless loop (finalizers run with hooks off)
-- expect: __gc metamethods are not available to strategies
function on_start() setmetatable({}, { __gc = function() while true do end end }) collectgarbage("count") end
