-- attack: store nested 1000 levels deep (a stack overflow in the host's walk)
-- expect: value is nested deeper than 32 levels at store.deep
function on_start()
  local t = {}
  store.deep = t
  for i = 1, 1000 do t.next = {} t = t.next end
  timer.after(0.05, function() end)
end
