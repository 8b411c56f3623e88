# A tool for every day (issue 13): the inputs people type, the messages
# they read, the jobs they run, first steps and deployment, through the
# binary against the real server and the fake exchange.
mde_unit_test(test_everyday ${CMAKE_CURRENT_LIST_DIR}/test_everyday.c
  ${CMAKE_CURRENT_LIST_DIR}/storeutil.c)
target_link_libraries(test_everyday PRIVATE mde_fake_exchange)
set_tests_properties(test_everyday PROPERTIES DEPENDS mdenrich)
