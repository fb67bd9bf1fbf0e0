"""The peer benchmark's strategy in backtesting.py (Scripts/bench-peers): the same rules as
sma_10_30.lua. Prints one JSON line: the engine time (Backtest.run), the wall time of this
script from its start (imports, CSV read, run), the fills and the final equity."""
import json
import sys
import time

started = time.perf_counter()
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from backtesting import Backtest, Strategy  # noqa: E402


def cent_sum(values, n):
    # Sums of whole cents, compared as fast_sum * 30 > slow_sum * 10: exact, as in the Lua file.
    return pd.Series(np.round(np.asarray(values) * 100)).rolling(n).sum().to_numpy()


class SmaCross(Strategy):
    def init(self):
        self.fast = self.I(cent_sum, self.data.Close, 10)
        self.slow = self.I(cent_sum, self.data.Close, 30)

    def next(self):
        # The cross decided on the bar's close, as the Lua file does: fast above slow now and
        # not on the bar before (both defined), or the reverse.
        if len(self.data) < 31:
            return
        above = self.fast[-1] * 30 > self.slow[-1] * 10
        before = self.fast[-2] * 30 > self.slow[-2] * 10
        if above and not before and not self.position:
            self.buy(size=10)
        elif before and not above and self.position:
            self.position.close()


def main(path):
    frame = pd.read_csv(path, parse_dates=["time"], index_col="time")
    frame = frame.rename(columns={"open": "Open", "high": "High", "low": "Low", "close": "Close", "volume": "Volume"})
    bt = Backtest(frame[["Open", "High", "Low", "Close", "Volume"]], SmaCross, cash=100_000, commission=0,
                  trade_on_close=False, exclusive_orders=False, finalize_trades=True)
    engine_started = time.perf_counter()
    stats = bt.run()
    engine = time.perf_counter() - engine_started
    trades = stats["_trades"]
    print(json.dumps({"tool": "backtesting.py", "bars": len(frame), "engine_s": engine,
                      "wall_s": time.perf_counter() - started, "fills": 2 * len(trades),
                      "final_equity": float(stats["Equity Final [$]"])}))


if __name__ == "__main__":
    main(sys.argv[1])
