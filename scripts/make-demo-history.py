#!/usr/bin/env python3
"""Writes a SYNTHETIC minute-candle history for the demo instruments, in the layout of
T-Invest's yearly history archives (docs/HISTORY.md): one ZIP per instrument and year holding one
CSV file per trading day, named <instrument uid>_<YYYYMMDD>.csv, rows
`uid;YYYY-MM-DDTHH:MM:SSZ;open;close;high;low;volume;`.

Nothing here is market data: prices are a seeded random walk on each instrument's price step,
starting from its configured reference price. The same seed, configuration and options give the
same bytes.

usage: scripts/make-demo-history.py --out DIR [--config config/demo.json] [--seed N]
                                    [--year 2024 ...] [--days N] [--uid UID ...]
The instruments are those of the configuration, plus any reference-data file (in its
reference_dir) listing objects with a uid, a min_price_increment and a reference_price.
"""
import argparse
import datetime
import json
import os
import random
import sys
import zipfile
from decimal import Decimal

SESSION_START_UTC = (7, 0)  # 10:00 Moscow time
SESSION_MINUTES = 520  # to 15:40 UTC
MISSING_MINUTE_PERCENT = 3  # minutes without trades, as real archives have
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so that the archives are reproducible


def instruments_of(config_path):
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    found = {}
    lists = [config.get("instruments", [])]
    reference = config.get("reference_dir")
    if reference:
        base = os.path.join(os.path.dirname(os.path.abspath(config_path)), reference)
        for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
            if not name.endswith(".json"):
                continue
            try:
                with open(os.path.join(base, name), encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, ValueError):
                continue
            if isinstance(data, dict):
                data = data.get("instruments", [])
            if isinstance(data, list):
                lists.append(data)
    for items in lists:
        for item in items:
            if (isinstance(item, dict) and item.get("uid") and item.get("min_price_increment")
                    and item.get("reference_price") and item["uid"] not in found):
                found[item["uid"]] = item
    return [found[uid] for uid in sorted(found)]


def trading_days(year, count):
    day = datetime.date(year, 1, 1)
    days = []
    while day.year == year and len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def text(ticks, step):
    value = (Decimal(ticks) * step).normalize()
    return format(value, "f")


def day_rows(rng, uid, day, step, state):
    rows = []
    start = datetime.datetime(day.year, day.month, day.day, *SESSION_START_UTC)
    for minute in range(SESSION_MINUTES):
        if rng.randrange(100) < MISSING_MINUTE_PERCENT:
            continue
        open_ticks = state["close"]
        close_ticks = max(1, open_ticks + rng.randint(-3, 3))
        high_ticks = max(open_ticks, close_ticks) + rng.randint(0, 2)
        low_ticks = max(1, min(open_ticks, close_ticks) - rng.randint(0, 2))
        state["close"] = close_ticks
        at = start + datetime.timedelta(minutes=minute)
        rows.append("%s;%s;%s;%s;%s;%s;%d;\n" % (
            uid, at.strftime("%Y-%m-%dT%H:%M:%SZ"), text(open_ticks, step),
            text(close_ticks, step), text(high_ticks, step), text(low_ticks, step),
            rng.randint(0, 500)))
    return "".join(rows)


def write_archive(out_dir, item, year, days, seed):
    uid = item["uid"]
    step = Decimal(item["min_price_increment"])
    rng = random.Random("%d:%s:%d" % (seed, uid, year))
    state = {"close": max(1, int(Decimal(item["reference_price"]) / step))}
    name = os.path.join(out_dir, "%s_%d.zip" % (item.get("figi") or uid, year))
    with zipfile.ZipFile(name, "w", zipfile.ZIP_DEFLATED) as archive:
        for day in trading_days(year, days):
            info = zipfile.ZipInfo("%s_%s.csv" % (uid, day.strftime("%Y%m%d")), ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, day_rows(rng, uid, day, step, state))
    return name


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--config", default=os.path.join(root, "config", "demo.json"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--year", type=int, action="append")
    parser.add_argument("--days", type=int, default=5, help="trading days per year (from 2 Jan)")
    parser.add_argument("--uid", action="append", help="only these instruments")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    items = instruments_of(args.config)
    if args.uid:
        items = [i for i in items if i["uid"] in args.uid]
        if len(items) != len(set(args.uid)):
            sys.exit("make-demo-history: an --uid is not an instrument of the configuration")
    for year in args.year or [2024]:
        for item in items:
            print(write_archive(args.out, item, year, args.days, args.seed))


if __name__ == "__main__":
    main()
