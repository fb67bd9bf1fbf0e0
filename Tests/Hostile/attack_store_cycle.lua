-- attack: a cycle in store (the host's walk of it was exponential)
-- expect: store: value contains a cycle at store.x[1]
function on_start() local t = {} t[1] = t t[2] = t store.x = t timer.after(0.05, function() end) end
