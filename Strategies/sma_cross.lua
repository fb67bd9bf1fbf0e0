-- sma_cross.lua: a moving-average crossover, position aware.
--
--   moonwire run Strategies/sma_cross.lua --duration 60 --param fast=5 --param slow=20
--
-- It warms up from history (market.history waits for TWS without blocking other events),
-- then builds 5-second bars, and trades the crossing of a fast and a slow average with
-- market orders. It never holds more than `qty` shares.

local symbol = params.symbol or "AAPL"
local fast_n = params.fast or 5
local slow_n = params.slow or 20
local qty = params.qty or 100

if fast_n >= slow_n then error("params.fast (" .. fast_n .. ") must be below params.slow (" .. slow_n .. ")") end

-- The last slow_n closes in a ring, and the sums of the last fast_n and slow_n of them kept
-- as closes come and go: O(1) a bar (no shifting, no summing), so a backtest over millions
-- of bars stays fast. The sums are summed afresh now and then, so rounding never builds up.
local ring, seen = {}, 0
local fast_sum, slow_sum = 0, 0

local function push_close(price)
  seen = seen + 1
  local slot = (seen - 1) % slow_n + 1
  local leaving_slow = ring[slot] or 0                       -- the close slow_n bars ago
  ring[slot] = price
  local leaving_fast = seen > fast_n and ring[(seen - fast_n - 1) % slow_n + 1] or 0
  slow_sum = slow_sum + price - leaving_slow
  fast_sum = fast_sum + price - leaving_fast
  if seen % 10000 == 0 then
    fast_sum, slow_sum = 0, 0
    for back = 0, slow_n - 1 do
      local close = ring[(seen - 1 - back) % slow_n + 1]
      slow_sum = slow_sum + close
      if back < fast_n then fast_sum = fast_sum + close end
    end
  end
end

local function average(n)
  if seen < n then return nil end
  return (n == fast_n and fast_sum or slow_sum) / n
end

function on_start()
  -- History: one hour of 5-second bars. The call suspends this handler until the bars
  -- arrive; returns nil, err when TWS refuses.
  local bars, err = market.history(symbol, { duration = "3600 S", bar = "5 secs", what = "TRADES" })
  if bars then
    for _, bar in ipairs(bars) do push_close(bar.close) end
    log.info(string.format("warmed up with %d bars", #bars))
  else
    log.warn("no history (" .. err.message .. "); warming up live")
  end
  market.subscribe(symbol, { quotes = true, bars = "5 secs" })
end

-- The signal: +1 when fast is above slow, -1 below.
local last_signal = 0

function on_bar(b)
  push_close(b.close)
  local fast, slow = average(fast_n), average(slow_n)
  if not fast or not slow then return end
  local signal = fast > slow and 1 or -1
  if signal == last_signal then return end
  last_signal = signal

  local position = account.position(symbol)   -- nil when flat
  local held = position and position.qty or 0
  local target = signal > 0 and qty or 0
  local delta = target - held
  if delta > 0 then
    local id, err = orders.buy(symbol, delta)          -- no limit/stop: a market order
    if not id then log.warn("buy refused: " .. err.message) end
  elseif delta < 0 then
    local id, err = orders.sell(symbol, -delta)
    if not id then log.warn("sell refused: " .. err.message) end
  end
  log.info(string.format("fast %.3f slow %.3f -> hold %d", fast, slow, target))
end

function on_fill(f)
  log.info(string.format("%s %d %s @ %.2f (commission %s)", f.side, f.qty, f.symbol, f.price, tostring(f.commission)))
  store.fills = (store.fills or 0) + 1
end

function on_error(e)
  log.warn("" .. e.code .. ": " .. e.message)
end
