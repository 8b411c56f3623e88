# Robustness under faults (issue 9, second half): transient database
# errors inside the staged write, stop requests during long waits, runs
# left 'running' by dead processes, memory bounded by the data and not by
# the time span; and the unit-level promises of core (errors, jitter,
# time and duration limits, config values, log quoting).
mde_unit_test(test_robust_store ${CMAKE_CURRENT_LIST_DIR}/test_robust_store.c
  ${CMAKE_CURRENT_LIST_DIR}/storeutil.c)
target_link_libraries(test_robust_store PRIVATE mde_fake_exchange)
set_tests_properties(test_robust_store PROPERTIES DEPENDS mdenrich)
mde_unit_test(test_robust_core ${CMAKE_CURRENT_LIST_DIR}/test_robust_core.c)
mde_unit_test(test_robust_cli ${CMAKE_CURRENT_LIST_DIR}/test_robust_cli.c
  ${CMAKE_CURRENT_SOURCE_DIR}/test_features_util.c)
set_tests_properties(test_robust_cli PROPERTIES DEPENDS mdenrich)
