-- attack: an endless loop inside xpcall's message handler (it ran while the error unwound, where the budget could not stop it: the thread spun for good)
-- expect: xpcall still works: false handled boom
-- expect: xpcall passes results: true 3 two
-- expect: time budget exceeded
function on_start()
  local ok, message = xpcall(function() error("boom", 0) end, function(e) return "handled " .. e end)
  print("xpcall still works: " .. tostring(ok) .. " " .. message)
  local passed, sum, word = xpcall(function(x, y) return x + y, "two" end, print, 1, 2)
  print("xpcall passes results: " .. tostring(passed) .. " " .. sum .. " " .. word)
  xpcall(function() error("x") end, function(e) while true do end end)
end
