-- mean_reversion.lua: limit orders around a moving mean, modified as the mean moves,
-- cancelled when stale. Shows orders.modify, orders.cancel and timers.
--
--   moonwire run Strategies/mean_reversion.lua --duration 60

local symbol = params.symbol or "MSFT"
local qty = params.qty or 50
local band = params.band or 0.05        -- dollars below the mean we bid
local window = params.window or 40      -- quotes in the mean

local mids = {}
local working = nil                      -- our resting buy, if any

local function mean()
  local sum = 0
  for _, m in ipairs(mids) do sum = sum + m end
  return sum / #mids
end

local function round_tick(price) return math.floor(price * 100 + 0.5) / 100 end

function on_start()
  market.subscribe(symbol, { quotes = true })
  -- Every 5 seconds: if the order has rested too long, cancel it and start over.
  timer.every(5, function()
    if working then
      local order = orders.get(working)
      if order and order.status == "submitted" then
        log.info("cancelling stale order " .. working)
        orders.cancel(working)
      end
    end
  end)
end

function on_quote(q)
  if not (q.bid and q.ask) then return end
  mids[#mids + 1] = (q.bid + q.ask) / 2
  if #mids > window then table.remove(mids, 1) end
  if #mids < window then return end

  local target = round_tick(mean() - band)
  local position = account.position(symbol)
  if position and position.qty >= qty then
    -- Holding: sell at the mean.
    if not working then
      working = orders.sell(symbol, position.qty, { limit = round_tick(mean()) })
    end
    return
  end
  if not working then
    local id, err = orders.buy(symbol, qty, { limit = target, tif = "DAY" })
    if id then working = id else log.warn(err.message) end
  else
    local order = orders.get(working)
    if order and order.status == "submitted" and order.side == "BUY" and order.limit and math.abs(order.limit - target) >= 0.02 then
      orders.modify(working, { limit = target })         -- same id, new price
    end
  end
end

function on_order(o)
  if o.id == working and (o.status == "filled" or o.status == "cancelled" or o.status == "rejected") then
    log.info(string.format("order %d %s", o.id, o.status))
    working = nil
  end
end

function on_fill(f)
  log.info(string.format("%s %d @ %.2f", f.side, f.qty, f.price))
end
