-- attack: resuming a handler's own coroutine while it waits for TWS
-- expect: this is the coroutine of a handler
local waiting
function on_start()
  waiting = coroutine.running()
  timer.after(0.001, function() coroutine.resume(waiting) end)
  market.history("AAPL", { duration = "1 D", bar = "1 min" })
end
