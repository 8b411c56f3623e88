# The archive-first backfill (issue 10): the fake exchange's archive tree
# over HTTP, the real server, the binary.
mde_unit_test(test_archive ${CMAKE_CURRENT_LIST_DIR}/test_archive.c
  ${CMAKE_CURRENT_LIST_DIR}/storeutil.c)
target_link_libraries(test_archive PRIVATE mde_fake_exchange)
set_tests_properties(test_archive PROPERTIES DEPENDS mdenrich)
