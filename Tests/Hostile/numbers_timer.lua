-- attack: timers nobody can mean: 1e10 s (it trapped converting to nanoseconds), NaN, 1e300, -0, math.maxinteger
-- expect: numbers_timer: timer.after: argument 1 (seconds) 10000000000 is out of range (it must be at least 0.001 and at most 31622400)
-- expect: numbers_timer: timer.every: argument 1 (seconds) nan is out of range
-- expect: numbers_timer: timer.after: argument 1 (seconds) 1e+300 is out of range
-- expect: numbers_timer: timer.after: argument 1 (seconds) -0 is out of range
-- expect: numbers_timer: timer.every: argument 1 (seconds) 9.223372036854776e+18 is out of range
-- expect: numbers_timer still has timers
function on_start()
  for _, call in ipairs({ { timer.after, 1e10 }, { timer.every, 0/0 }, { timer.after, 1e300 }, { timer.after, -0.0 }, { timer.every, math.maxinteger } }) do
    local id, err = call[1](call[2], function() end)
    print("numbers_timer: " .. (err and err.message or ("no error, timer " .. tostring(id))))
  end
  timer.after(0.01, function() print("numbers_timer still has timers") end)
end
