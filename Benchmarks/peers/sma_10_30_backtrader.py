"""The peer benchmark's strategy in backtrader (Scripts/bench-peers): the same rules as
sma_10_30.lua. Prints one JSON line: the engine time (cerebro.run), the wall time of this
script from its start, the fills and the final equity."""
import json
import sys
import time

started = time.perf_counter()
import backtrader as bt  # noqa: E402
import pandas as pd  # noqa: E402


class SmaCross(bt.Strategy):
    def __init__(self):
        # Sums of whole cents, compared as fast_sum * 30 > slow_sum * 10: exact, as in the Lua file.
        self.cents = []
        self.before = None
        self.fills = 0

    def notify_order(self, order):
        if order.status == order.Completed:
            self.fills += 1

    def next(self):
        self.cents.append(round(self.data.close[0] * 100))
        if len(self.cents) > 30:
            self.cents.pop(0)
        if len(self.cents) < 30:
            return
        above = sum(self.cents[-10:]) * 30 > sum(self.cents) * 10
        before, self.before = self.before, above
        if before is None:
            return
        if above and not before and not self.position:
            self.buy(size=10)
        elif before and not above and self.position:
            self.close()


def main(path):
    frame = pd.read_csv(path, parse_dates=["time"], index_col="time")
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame[["open", "high", "low", "close", "volume"]], openinterest=None))
    cerebro.addstrategy(SmaCross)
    cerebro.broker.setcash(100_000)
    engine_started = time.perf_counter()
    strategy = cerebro.run()[0]
    engine = time.perf_counter() - engine_started
    print(json.dumps({"tool": "backtrader", "bars": len(frame), "engine_s": engine,
                      "wall_s": time.perf_counter() - started, "fills": strategy.fills,
                      "final_equity": cerebro.broker.getvalue()}))


if __name__ == "__main__":
    main(sys.argv[1])
