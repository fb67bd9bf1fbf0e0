-- attack: nested greedy repetitions in string.match
-- expect: time budget exceeded
function on_start() string.match(string.rep("a", 3000), ("a*"):rep(30) .. "b") end
