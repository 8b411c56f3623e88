# The fuzz targets of tests/fuzz, replayed without libFuzzer over their
# committed corpus and every regression input (tests/fuzz/regressions):
# what once crashed stays fixed, under gcc and clang, with the sanitizers
# in build-asan*. scripts/fuzz.sh does the fuzzing itself.
include(${CMAKE_CURRENT_LIST_DIR}/fuzz/targets.cmake)
foreach(t ${MDE_FUZZ_TARGETS})
  add_executable(fuzz_replay_${t} ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_${t}.c
    ${CMAKE_CURRENT_LIST_DIR}/fuzz/replay_main.c)
  target_link_libraries(fuzz_replay_${t} PRIVATE mde_cli)
  target_include_directories(fuzz_replay_${t} PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/fuzz)
  add_test(NAME fuzz_replay_${t} COMMAND fuzz_replay_${t}
    tests/fuzz/corpus/${t} tests/fuzz/regressions/${t}
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
endforeach()
