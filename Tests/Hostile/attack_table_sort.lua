-- attack: table.sort of two million numbers, in C, after building them over several timers
-- expect: time budget exceeded
local t, built = {}, 0
function on_start()
  timer.every(0.01, function()
    if built >= 2e6 then return end
    for i = built + 1, built + 1e5 do t[i] = (i * 7919) % 1000003 end
    built = built + 1e5
    if built >= 2e6 then table.sort(t) end
  end)
end
