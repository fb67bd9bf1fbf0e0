-- attack: a quadratic plain find (5 M x 10 M bytes compared)
-- expect: time budget exceeded
function on_start() string.find(string.rep("a", 1e7), string.rep("a", 5e6) .. "b", 1, true) end
