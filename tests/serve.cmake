# `mdenrich serve` (issue 12): every endpoint against the real server
# holding a backfill, the errors of API.md, the features CSV against
# `compute`, a triggered run; and the pages in headless Chromium.
mde_unit_test(test_serve ${CMAKE_CURRENT_LIST_DIR}/test_serve.c
  ${CMAKE_CURRENT_LIST_DIR}/storeutil.c ${CMAKE_CURRENT_LIST_DIR}/serveutil.c)
# Headless Chromium takes both CPUs for seconds; test_store's kill and
# restart tests are timing-sensitive and fail on a saturated machine (three
# busy loops reproduce it), so this one runs alone.
set_tests_properties(test_serve PROPERTIES RUN_SERIAL TRUE)
