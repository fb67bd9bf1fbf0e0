-- sma_10_30.lua: the peer benchmark's strategy (Scripts/bench-peers), the same rules as
-- sma_10_30_backtesting.py and sma_10_30_backtrader.py: a 10-bar and a 30-bar simple moving
-- average of closes; when the fast crosses above the slow, buy 10 shares (if flat); when it
-- crosses below, sell what is held. Market orders, filled at the next bar's open, no
-- commission: the figures to compare are the fills and the final equity. The averages are
-- compared as sums of whole cents (fast_sum * slow_n > slow_sum * fast_n): exact in every
-- tool, so a tie of the two averages is decided the same way everywhere.

local fast_n, slow_n, qty = params.fast or 10, params.slow or 30, 10  -- params: the sweep of Scripts/bench-peers
local closes, seen = {}, 0
local fast_sum, slow_sum = 0, 0
local last_above = nil
local held = 0

function on_start()
  market.subscribe("AAPL", { bars = "1 min" })
end

function on_bar(b)
  local cents = math.floor(b.close * 100 + 0.5)
  seen = seen + 1
  closes[seen] = cents
  fast_sum = fast_sum + cents - (closes[seen - fast_n] or 0)
  slow_sum = slow_sum + cents - (closes[seen - slow_n] or 0)
  closes[seen - slow_n] = nil
  if seen < slow_n then return end
  local above = fast_sum * slow_n > slow_sum * fast_n
  if last_above ~= nil and above ~= last_above then
    if above and held == 0 then
      orders.buy("AAPL", qty)
      held = qty
    elseif not above and held > 0 then
      orders.sell("AAPL", held)
      held = 0
    end
  end
  last_above = above
end
