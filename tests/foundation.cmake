# Foundation: time parsing, logging and redaction, configuration
# precedence, the command line's errors and exit codes, migrations against
# the real server.
mde_unit_test(test_time ${CMAKE_CURRENT_LIST_DIR}/test_time.c)
mde_unit_test(test_log ${CMAKE_CURRENT_LIST_DIR}/test_log.c)
mde_unit_test(test_config ${CMAKE_CURRENT_LIST_DIR}/test_config.c)
mde_unit_test(test_cli ${CMAKE_CURRENT_LIST_DIR}/test_cli.c)
mde_unit_test(test_migrate ${CMAKE_CURRENT_LIST_DIR}/test_migrate.c)
set_tests_properties(test_cli test_config test_migrate PROPERTIES DEPENDS mdenrich)
