#!/usr/bin/env python3
"""Regenerate data/replay/ and tests/fixtures/clients/ from the real recorded
data in /work/shared/data/real (see its PROVENANCE.md). For maintainers only:
the build and the tests never run this and never read /work/shared.

Only the layout is converted (CSV rows -> the exact REST JSON shapes the
clients parse); every number keeps its recorded text. Nothing is invented:
fields the recording lacks are left out (funding markPrice) or are the
constant the API always sends (kline "ignore" = "0").

usage: scripts/make_replay_sample.py [SHARED_REAL_DIR]
"""
import csv
import json
import os
import sys

REAL = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/real"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPLAY = os.path.join(ROOT, "data", "replay")
FIX = os.path.join(ROOT, "tests", "fixtures", "clients")
H = 3600000
DAY = 86400000


def ms(y, m, d, hh=0):
    import calendar
    return calendar.timegm((y, m, d, hh, 0, 0)) * 1000


def kline_json(rows):
    """rows: list of 12 text cells in REST order -> Binance klines body."""
    out = []
    for r in rows:
        cells = [r[0], json.dumps(r[1]), json.dumps(r[2]), json.dumps(r[3]),
                 json.dumps(r[4]), json.dumps(r[5]), r[6], json.dumps(r[7]),
                 r[8], json.dumps(r[9]), json.dumps(r[10]), json.dumps(r[11])]
        out.append("[" + ",".join(cells) + "]")
    return "[\n" + ",\n".join(out) + "\n]\n"


def read_gg(path):
    with open(path) as f:
        rd = csv.reader(f)
        next(rd)
        return [r[:12] for r in rd]


def read_bianv2(path):
    with open(path) as f:
        rd = csv.reader(f)
        next(rd)
        # open_time,datetime,open,high,low,close,volume,close_time,
        # quote_volume,trades,taker_buy_base,taker_buy_quote (ignore dropped)
        return [[r[0], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
                 r[11], "0"] for r in rd]


def read_intabyu(path):
    with open(path) as f:
        rd = csv.reader(f)
        next(rd)
        return [r[:12] for r in rd]


def window(rows, a, b):
    return [r for r in rows if a <= int(r[0]) < b]


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def funding_json(path, a, b):
    with open(path) as f:
        rd = csv.reader(f)
        next(rd)  # fundingTime,fundingIntervalHours,fundingRate
        rows = [r for r in rd if a <= int(r[0]) < b]
    items = ['{"symbol":"BTCUSDT","fundingTime":%s,"fundingRate":%s}'
             % (r[0], json.dumps(r[2])) for r in rows]
    return "[\n" + ",\n".join(items) + "\n]\n"


def raw_numbers(path):
    with open(path) as f:
        return json.load(f, parse_float=str, parse_int=str)


def main():
    fut = os.path.join(REAL, "binance_um_futures")
    spot = os.path.join(REAL, "binance_spot")
    yahoo = os.path.join(REAL, "yahoo")

    # ---- replay sample ----
    gg1h = read_gg(os.path.join(fut, "gg-cmk__BTCUSDT-1h-futures.csv"))
    gg4h = read_gg(os.path.join(fut, "gg-cmk__BTCUSDT-4h-futures.csv"))
    a, b = ms(2026, 6, 1), ms(2026, 8, 1)
    write(os.path.join(REPLAY, "BTCUSDT", "klines_1h.json"),
          kline_json(window(gg1h, a, b)))
    write(os.path.join(REPLAY, "BTCUSDT", "klines_4h.json"),
          kline_json(window(gg4h, a, b)))
    write(os.path.join(REPLAY, "BTCUSDT", "funding.json"),
          funding_json(os.path.join(fut, "gg-cmk__BTCUSDT-funding.csv"),
                       ms(2026, 5, 1), b))
    oi = raw_numbers(os.path.join(fut, "transcribed",
                                  "DrAndromeda__oi_BTCUSDT.json"))
    write(os.path.join(REPLAY, "BTCUSDT", "open_interest.json"),
          "[\n" + ",\n".join(
              '{"symbol":"BTCUSDT","sumOpenInterest":"%s",'
              '"sumOpenInterestValue":"%s","timestamp":%s}'
              % (r["oi"], r["oi_value"], r["ts"]) for r in oi) + "\n]\n")
    ls = raw_numbers(os.path.join(fut, "transcribed",
                                  "DrAndromeda__ls_ratio_BTCUSDT.json"))
    write(os.path.join(REPLAY, "BTCUSDT", "long_short.json"),
          "[\n" + ",\n".join(
              '{"symbol":"BTCUSDT","longShortRatio":"%s","longAccount":'
              '"%.4f","shortAccount":"%.4f","timestamp":%s}'
              % (r["ratio"], float(r["long_pct"]) / 100,
                 float(r["short_pct"]) / 100, r["ts"]) for r in ls)
          + "\n]\n")
    for sym in ("ETHUSDT", "BNBUSDT"):
        rows = read_bianv2(os.path.join(spot, "bianV2__%s_1h.csv" % sym))
        last = int(rows[-1][0]) + H
        write(os.path.join(REPLAY, sym, "klines_1h.json"),
              kline_json(window(rows, last - 60 * DAY, last)))
    with open(os.path.join(
            yahoo, "node-yahoo-finance2__chart-AAPL-2020-08-31-to-2020-11-07.json")) as f:
        rec = json.load(f)
    write(os.path.join(REPLAY, "AAPL", "chart_1d.json"),
          json.dumps(rec["response"]["bodyJson"], separators=(",", ":")) + "\n")

    # ---- test fixtures ----
    t0 = ms(2025, 1, 1)
    write(os.path.join(FIX, "fapi_klines_BTCUSDT_1h_p1.json"),
          kline_json(window(gg1h, t0, t0 + 1000 * H)))
    write(os.path.join(FIX, "fapi_klines_BTCUSDT_1h_p2.json"),
          kline_json(window(gg1h, t0 + 1000 * H, t0 + 1200 * H)))
    mar = read_intabyu(os.path.join(spot, "intabyu__BTCUSDT-1h-2023-03.csv"))
    write(os.path.join(FIX, "api_klines_BTCUSDT_1h_2023-03.json"),
          kline_json(mar))
    write(os.path.join(FIX, "fapi_fundingRate_BTCUSDT_2025.json"),
          funding_json(os.path.join(fut, "gg-cmk__BTCUSDT-funding.csv"),
                       t0, ms(2026, 1, 1)))
    for name in ("chart-AAPL-2020-08-31-to-2020-11-07",
                 "chart-BTC-USD-2020-01-01-to-2020-01-03",
                 "chart-AAPL-2025-02-01-to-2025-02-02-includePrePost-false-interval-1m"):
        with open(os.path.join(yahoo, "node-yahoo-finance2__%s.json" % name)) as f:
            rec = json.load(f)
        write(os.path.join(FIX, "yahoo_%s.json" % name),
              json.dumps(rec["response"]["bodyJson"], separators=(",", ":")) + "\n")
        write(os.path.join(FIX, "yahoo_%s.url" % name),
              rec["request"]["url"] + "\n")
    with open(os.path.join(
            REAL, "polygon",
            "client-python__v2_aggs_ticker_AAPL_range_1_day_2005-04-01_2005-04-04.json")) as f:
        write(os.path.join(FIX, "polygon_aggs_AAPL_1_day_2005-04-01_2005-04-04.json"),
              f.read())


if __name__ == "__main__":
    main()
