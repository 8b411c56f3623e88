# Live enrichment (issue 14): `mdenrich stream` against the fake kline
# WebSocket endpoint (tests/fake_ws.c) and the fake exchange's REST API,
# on the real PostgreSQL; the kline message parser offline.
mde_unit_test(test_stream ${CMAKE_CURRENT_LIST_DIR}/test_stream.c
  ${CMAKE_CURRENT_LIST_DIR}/storeutil.c)
target_link_libraries(test_stream PRIVATE mde_fake_exchange)

mde_unit_test(test_ws_parse ${CMAKE_CURRENT_LIST_DIR}/test_ws_parse.c)
