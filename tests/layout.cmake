# The include edges of the stages (docs/ARCHITECTURE.md), proved by the
# build itself: each probe is compiled with the include path and compile
# options of one stage library, and must build (allowed edge) or fail with
# the forbidden header not found. The probes are not part of `all`; ctest
# builds them.
function(mde_layout_probe name stage src expect)
  add_library(${name} OBJECT EXCLUDE_FROM_ALL
    ${CMAKE_CURRENT_SOURCE_DIR}/layout/${src})
  # The stage's own folder and those it links: exactly what its sources see.
  target_link_libraries(${name} PRIVATE ${stage})
  add_test(NAME ${name}
    COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target ${name})
  # One build of the tree at a time.
  set_tests_properties(${name} PROPERTIES RESOURCE_LOCK mde_build_tree)
  if(expect STREQUAL "fails")
    # gcc's message, or clang's
    set_tests_properties(${name} PROPERTIES PASS_REGULAR_EXPRESSION
      "${ARGN}: No such file or directory;'${ARGN}' file not found")
  endif()
endfunction()

# The probes sit in tests/layout/, not in the stage's folder, so a quoted
# include finds only what the stage's include path offers.
mde_layout_probe(layout_features_sees_core mde_features
  features_sees_core.c builds)
mde_layout_probe(layout_features_sees_store mde_features
  features_sees_store.c fails store.h)
mde_layout_probe(layout_clients_sees_pipeline mde_clients
  clients_sees_pipeline.c fails pipeline.h)
mde_layout_probe(layout_store_sees_features mde_store
  store_sees_features.c fails engine.h)
