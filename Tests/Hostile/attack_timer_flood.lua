-- attack: 4,000 one-millisecond repeating timers (the host queued their firings without bound)
-- expect: timer.every: too many timers (1000 live)
function on_start()
  for i = 1, 4000 do timer.every(0.001, function() end) end
end
