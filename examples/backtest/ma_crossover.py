#!/usr/bin/env python3
"""A moving-average crossover bot for the T-Invest API, written with the official Python SDK
(package `tinkoff.invest`, `pip install tinkoff-investments`).

It knows nothing of where it runs: the real broker, its sandbox, or a replay of history. It takes
its token from INVEST_TOKEN, trades the first account the token sees (or --account), finds the
share by its ticker, subscribes to closed one-minute candles, and keeps two simple moving
averages of their closes:

- the fast one crosses above the slow one and the bot holds nothing: a market buy of --lots lots;
- the fast one crosses below the slow one and the bot holds a position: a market sell of all of it.

It prints one line per candle (the averages and what it decided) and stops after --candles candles
(0: never) or when the stream ends.

    INVEST_TOKEN=... python3 ma_crossover.py --ticker SBER --fast 2 --slow 5 --lots 10

Every option can also be given in the environment: MA_TICKER, MA_FAST, MA_SLOW, MA_LOTS,
MA_CANDLES, INVEST_ACCOUNT_ID.
"""

import argparse
import os
import sys
from collections import deque
from uuid import uuid4

from tinkoff.invest import (
    CandleInstrument,
    Client,
    InstrumentType,
    OrderDirection,
    OrderType,
    RequestError,
    SubscriptionInterval,
    SubscriptionStatus,
)
from tinkoff.invest.utils import money_to_decimal, quotation_to_decimal


def options():
    env = os.environ.get
    parser = argparse.ArgumentParser(description="SMA crossover bot on one-minute candles")
    parser.add_argument("--ticker", default=env("MA_TICKER", "SBER"))
    parser.add_argument("--fast", type=int, default=int(env("MA_FAST", "2")))
    parser.add_argument("--slow", type=int, default=int(env("MA_SLOW", "5")))
    parser.add_argument("--lots", type=int, default=int(env("MA_LOTS", "10")))
    parser.add_argument(
        "--candles",
        type=int,
        default=int(env("MA_CANDLES", "0")),
        help="stop after this many closed candles (0: run until the stream ends)",
    )
    parser.add_argument("--account", default=env("INVEST_ACCOUNT_ID", ""))
    args = parser.parse_args()
    if not 1 <= args.fast < args.slow:
        parser.error("need 1 <= --fast < --slow")
    if args.lots < 1 or args.candles < 0:
        parser.error("--lots must be at least 1 and --candles not negative")
    return args


def say(text):
    print(text, flush=True)


def plain(value):
    """A decimal as a person writes it: 300.4, not 300.400000000."""
    return format(value.normalize(), "f")


def find_share(client, ticker):
    found = client.instruments.find_instrument(
        query=ticker,
        instrument_kind=InstrumentType.INSTRUMENT_TYPE_SHARE,
        api_trade_available_flag=True,
    ).instruments
    exact = [i for i in found if i.ticker == ticker]
    if not exact:
        sys.exit(f"no tradable share with the ticker {ticker}")
    return exact[0]


def pick_account(client, wanted):
    accounts = client.users.get_accounts().accounts
    for account in accounts:
        if not wanted or account.id == wanted:
            return account.id
    sys.exit(f"account {wanted} not found" if wanted else "the token sees no account")


class Crossover:
    """Two simple moving averages of the closes and the sign of their difference."""

    def __init__(self, fast, slow):
        self.fast = fast
        self.closes = deque(maxlen=slow)
        self.previous = None  # fast - slow at the candle before

    def add(self, close):
        """The averages after this close, and 'up', 'down' or None for a crossing."""
        self.closes.append(close)
        if len(self.closes) < self.closes.maxlen:
            return None, None, None
        values = list(self.closes)
        fast = sum(values[-self.fast :]) / self.fast
        slow = sum(values) / len(values)
        diff = fast - slow
        crossing = None
        if self.previous is not None:
            if self.previous <= 0 < diff:
                crossing = "up"
            elif self.previous >= 0 > diff:
                crossing = "down"
        self.previous = diff
        return fast, slow, crossing


def trade(client, account_id, share, direction, lots):
    response = client.orders.post_order(
        instrument_id=share.uid,
        quantity=lots,
        direction=direction,
        account_id=account_id,
        order_type=OrderType.ORDER_TYPE_MARKET,
        order_id=str(uuid4()),
    )
    price = money_to_decimal(response.executed_order_price)
    return response.lots_executed, price


def main():
    args = options()
    token = os.environ.get("INVEST_TOKEN")
    if not token:
        sys.exit("set INVEST_TOKEN")
    with Client(token) as client:
        account_id = pick_account(client, args.account)
        share = find_share(client, args.ticker)
        say(
            f"account {account_id}, {share.ticker} ({share.uid}), "
            f"SMA {args.fast}/{args.slow}, {args.lots} lot(s) a trade"
        )
        averages = Crossover(args.fast, args.slow)
        position = 0  # lots the bot bought and holds
        seen = 0
        stream = client.create_market_data_stream()
        stream.candles.waiting_close().subscribe(
            [
                CandleInstrument(
                    instrument_id=share.uid,
                    interval=SubscriptionInterval.SUBSCRIPTION_INTERVAL_ONE_MINUTE,
                )
            ]
        )
        try:
            for message in stream:
                if message.subscribe_candles_response:
                    for s in message.subscribe_candles_response.candles_subscriptions:
                        if s.subscription_status != SubscriptionStatus.SUBSCRIPTION_STATUS_SUCCESS:
                            sys.exit(f"subscription refused: {s.subscription_status.name}")
                    say("subscribed to closed one-minute candles")
                    continue
                candle = message.candle
                if not candle or candle.instrument_uid != share.uid:
                    continue
                seen += 1
                close = quotation_to_decimal(candle.close)
                fast, slow, crossing = averages.add(close)
                line = f"{candle.time:%Y-%m-%d %H:%M} close {plain(close)}"
                if fast is not None:
                    line += f" fast {fast:.4f} slow {slow:.4f}"
                if crossing == "up" and position == 0:
                    side, direction, wanted = "BUY", OrderDirection.ORDER_DIRECTION_BUY, args.lots
                elif crossing == "down" and position > 0:
                    side, direction, wanted = "SELL", OrderDirection.ORDER_DIRECTION_SELL, position
                else:
                    side = None
                if side is None:
                    line += " -> hold"
                else:
                    try:
                        lots, price = trade(client, account_id, share, direction, wanted)
                    except RequestError as error:  # refused: the position stays as it is
                        why = getattr(error.metadata, "message", None) or ""
                        line += f" -> {side} {wanted} refused: {error.code.name}"
                        line += f" {error.details} {why}".rstrip()
                    else:
                        position += lots if side == "BUY" else -lots
                        line += f" -> {side} {wanted}: {lots} filled at {plain(price)}"
                say(f"{line}; position {position}")
                if args.candles and seen >= args.candles:
                    say(f"done after {seen} candles")
                    break
            else:
                say(f"the stream ended after {seen} candles")
        except RequestError as error:
            say(f"the stream ended ({error.code.name}) after {seen} candles")
        finally:
            stream.stop()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
