# Concurrent fetching (issue 11): fetchers on many threads sharing one
# budget per host, and run/backfill with fetch threads against the fake
# exchange and the real server.
mde_unit_test(test_concurrency ${CMAKE_CURRENT_LIST_DIR}/test_concurrency.c
  ${CMAKE_CURRENT_LIST_DIR}/storeutil.c)
target_link_libraries(test_concurrency PRIVATE mde_fake_exchange)
