-- attack: an error object whose __tostring never returns
-- expect: error object is not a string
function on_start() error(setmetatable({}, { __tostring = function() while true do end end })) end
