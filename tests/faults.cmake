# Data you can trust under faults (issue 9, fetch side): row-level
# validation and strict parsing offline (test_rows), and the fault matrix
# through the real binary against the fake exchange over real HTTP and a
# real PostgreSQL (test_faults).
mde_unit_test(test_rows ${CMAKE_CURRENT_LIST_DIR}/test_rows.c)
mde_unit_test(test_faults ${CMAKE_CURRENT_LIST_DIR}/test_faults.c
  ${CMAKE_CURRENT_LIST_DIR}/storeutil.c)
target_link_libraries(test_faults PRIVATE mde_fake_exchange)
