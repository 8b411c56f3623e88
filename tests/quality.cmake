# Quality metrics and enrichment_status (src/quality.c) against the real
# server, and the status and quality commands in every format.
mde_unit_test(test_quality ${CMAKE_CURRENT_LIST_DIR}/test_quality.c)
set_tests_properties(test_quality PROPERTIES DEPENDS mdenrich)
