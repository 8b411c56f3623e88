# The store and the runs (issue "store and runs"): idempotence, kill -9 and
# SIGTERM resumes, lost connections, hour by hour, amendments and workers,
# against the real PostgreSQL, the binary and the fake exchange.
mde_unit_test(test_store ${CMAKE_CURRENT_LIST_DIR}/test_store.c
  ${CMAKE_CURRENT_LIST_DIR}/storeutil.c)
target_link_libraries(test_store PRIVATE mde_fake_exchange)

# Restarts the shared test server: nothing else may run meanwhile.
mde_unit_test(test_store_faults ${CMAKE_CURRENT_LIST_DIR}/test_store_faults.c
  ${CMAKE_CURRENT_LIST_DIR}/storeutil.c)
set_tests_properties(test_store_faults PROPERTIES RUN_SERIAL TRUE)

mde_unit_test(test_runs ${CMAKE_CURRENT_LIST_DIR}/test_runs.c
  ${CMAKE_CURRENT_LIST_DIR}/storeutil.c)
target_link_libraries(test_runs PRIVATE mde_fake_exchange)

mde_unit_test(test_pgcopy ${CMAKE_CURRENT_LIST_DIR}/test_pgcopy.c)
