# herald_cc_test(NAME name SRCS a.cc b.cc DEPS lib... [PROPERTIES prop value...])
# Builds one GoogleTest binary and registers its tests with ctest, labelled
# `unit`, with any further test PROPERTIES (a fixture they need, say).
function(herald_cc_test)
  cmake_parse_arguments(T "" "NAME" "SRCS;DEPS;PROPERTIES" ${ARGN})
  add_executable(${T_NAME} ${T_SRCS})
  target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} GTest::gmock GTest::gtest_main)
  if(HERALD_SANITIZE)
    # The code under test keeps the sanitized build's -O1; the tests' own
    # code, gtest and gmock templates mostly, compiles at -O0 under ASan in
    # a third of the time (54 s to 20 s for the store tests' unity unit).
    target_compile_options(${T_NAME} PRIVATE -O0)
  endif()
  gtest_discover_tests(${T_NAME} DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS unit ${T_PROPERTIES})
endfunction()

# herald_embed_files(OUTPUT file.cc NAMESPACE ns FUNCTION fn [BASE dir] FILES ...)
# Generates a .cc that defines `const std::map<std::string, std::string>& ns::fn()`
# mapping each file's name (its path under BASE, when given) to its contents, so
# binaries carry their defaults.
function(herald_embed_files)
  cmake_parse_arguments(E "" "OUTPUT;NAMESPACE;FUNCTION;BASE" "FILES" ${ARGN})
  add_custom_command(
    OUTPUT ${E_OUTPUT}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${E_OUTPUT} -DNAMESPACE=${E_NAMESPACE}
            -DFUNCTION=${E_FUNCTION} "-DBASE=${E_BASE}" "-DFILES=${E_FILES}"
            -P ${PROJECT_SOURCE_DIR}/cmake/EmbedFiles.cmake
    DEPENDS ${E_FILES} ${PROJECT_SOURCE_DIR}/cmake/EmbedFiles.cmake
    COMMENT "Embedding ${E_FUNCTION}"
    VERBATIM)
endfunction()
