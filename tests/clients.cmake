# The fetch stage (clients/): offline parser tests on recorded responses,
# and integration tests over real HTTP against the in-process fake
# exchange on 127.0.0.1. The fake is a small library other areas' tests
# can link (mde_fake_exchange), and a program (build/fake_exchange) for
# shell-level tests and bench_fetch.

add_library(mde_fake_exchange STATIC ${CMAKE_CURRENT_SOURCE_DIR}/fake_exchange.c
  ${CMAKE_CURRENT_SOURCE_DIR}/fake_faults.c ${CMAKE_CURRENT_SOURCE_DIR}/fake_ws.c
  ${CMAKE_CURRENT_SOURCE_DIR}/fake_archive.c)
target_link_libraries(mde_fake_exchange PUBLIC mde_cli PkgConfig::MHD
  PkgConfig::LWS PkgConfig::ZIP PkgConfig::CRYPTO pthread)
target_include_directories(mde_fake_exchange PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})

add_executable(fake_exchange ${CMAKE_CURRENT_SOURCE_DIR}/fake_exchange_main.c)
target_link_libraries(fake_exchange PRIVATE mde_fake_exchange)
set_target_properties(fake_exchange PROPERTIES RUNTIME_OUTPUT_DIRECTORY
  ${CMAKE_BINARY_DIR})

mde_unit_test(test_clients_parse test_clients_parse.c)
mde_unit_test(test_clients_fetch test_clients_fetch.c)
target_link_libraries(test_clients_fetch PRIVATE mde_fake_exchange)
