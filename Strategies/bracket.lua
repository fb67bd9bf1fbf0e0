-- bracket.lua: an entry with a take-profit and a stop-loss managed from on_fill.
--
--   moonwire run Strategies/bracket.lua --duration 60
--
-- When the entry fills, the strategy places both exits; when one exit fills, it cancels
-- the other, and after a pause enters again.

local symbol = params.symbol or "SPY"
local qty = params.qty or 10
local take = params.take or 0.10        -- dollars above the entry
local risk = params.risk or 0.10        -- dollars below the entry

local entry, profit, stop = nil, nil, nil

local function round_tick(price) return math.floor(price * 100 + 0.5) / 100 end

local function enter()
  local id, err = orders.buy(symbol, qty)
  if id then entry = id else log.warn("entry refused: " .. err.message) end
end

function on_start()
  market.subscribe(symbol, { quotes = true })
  -- Wait for a first quote before entering.
  timer.after(1, enter)
end

function on_fill(f)
  if f.order_id == entry then
    local order = orders.get(entry)
    if order and order.status == "filled" then
      local price = order.avg_price
      profit = orders.sell(symbol, qty, { limit = round_tick(price + take), tif = "GTC" })
      stop = orders.sell(symbol, qty, { stop = round_tick(price - risk), tif = "GTC" })
      log.info(string.format("in at %.2f, exits %.2f / %.2f", price, price + take, price - risk))
      entry = nil
    end
  elseif f.order_id == profit or f.order_id == stop then
    local other = f.order_id == profit and stop or profit
    orders.cancel(other)
    log.info("out via " .. (f.order_id == profit and "take-profit" or "stop") .. " at " .. f.price)
    profit, stop = nil, nil
    store.round_trips = (store.round_trips or 0) + 1
    timer.after(2, enter)
  end
end

function on_error(e)
  log.warn("" .. e.code .. ": " .. e.message)
end
