-- bracket.lua: an entry with a take-profit and a stop-loss, sent together as one bracket.
--
--   moonwire run Strategies/bracket.lua --duration 60
--
-- orders.bracket sends the entry and its two exits as TWS brackets them: the exits work
-- once the entry fills, and the first of them to fill cancels the other (or, when it fills
-- in parts, shrinks it by each part), all at TWS: nothing is left to this script's timing.
-- When the bracket is done, the strategy enters again after a pause.

local symbol = params.symbol or "SPY"
local qty = tonumber(params.qty) or 10
local take = tonumber(params.take) or 0.10   -- dollars above the entry price
local risk = tonumber(params.risk) or 0.10   -- dollars below it

local legs = nil   -- { parent =, take_profit =, stop_loss = } of the working bracket

local function round_tick(price) return math.floor(price * 100 + 0.5) / 100 end

local function enter()
  local q = market.quote(symbol)
  if not q or not q.ask then timer.after(1, enter) return end
  local price = q.ask
  local bracket, err = orders.bracket(symbol, qty, {
    take_profit = round_tick(price + take),
    stop_loss = round_tick(price - risk),
    tif = "GTC",
  })
  if not bracket then log.warn("bracket refused: " .. err.message) return end
  legs = bracket
  log.info(string.format("bracket around %.2f: take-profit %.2f, stop-loss %.2f", price, price + take, price - risk))
end

function on_start()
  market.subscribe(symbol, { quotes = true })
  timer.after(1, enter)   -- after a first quote
end

function on_order(o)
  if not legs then return end
  if o.id == legs.take_profit or o.id == legs.stop_loss then
    if o.status == "filled" then
      log.info("out via " .. (o.id == legs.take_profit and "take-profit" or "stop-loss") .. " at " .. o.avg_price)
      store.round_trips = (store.round_trips or 0) + 1
      legs = nil
      timer.after(2, enter)
    end
  end
end

function on_error(e)
  log.warn(e.code .. ": " .. e.message)
end
