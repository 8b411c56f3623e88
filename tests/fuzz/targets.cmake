# The fuzz targets: tests/fuzz/fuzz_<name>.c, corpus in corpus/<name>/,
# inputs that once failed in regressions/<name>/.
set(MDE_FUZZ_TARGETS binance_klines binance_funding binance_futdata yahoo
  polygon csv config time symbols ws archive)
