-- attack: pcall around an endless loop, itself in an endless loop
-- expect: time budget exceeded
function on_start() while true do pcall(function() while true do end end) end end
