# Feature engine, validation and the compute command (docs/FEATURES.md).
set(MDE_FT_UTIL ${CMAKE_CURRENT_SOURCE_DIR}/test_features_util.c)
foreach(t test_features test_features_twin test_features_chunk
    test_features_registry test_validate test_compute)
  mde_unit_test(${t} ${CMAKE_CURRENT_SOURCE_DIR}/${t}.c ${MDE_FT_UTIL})
endforeach()
