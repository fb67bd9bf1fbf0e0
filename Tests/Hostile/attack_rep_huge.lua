-- attack: a string.rep result far beyond the memory cap
-- expect: would exceed the strategy's memory limit
function on_start() local s = string.rep('x', 1e12) end
