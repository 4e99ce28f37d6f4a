# libgtrace unit tests.  test_lib is a fake collector that runs itself and
# the two helper programs below as traced children (see test_lib.c).
add_executable(test_lib_disabled test_lib_disabled.c)
target_compile_definitions(test_lib_disabled PRIVATE GT_DISABLE)
target_link_libraries(test_lib_disabled PRIVATE gtrace_lib)

add_executable(test_lib_cpp test_lib_cpp.cpp)
set_target_properties(test_lib_cpp PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON
  CXX_EXTENSIONS OFF)
target_link_libraries(test_lib_cpp PRIVATE gtrace_lib)

gt_unit_test(test_lib SOURCES test_lib.c test_lib_harness.c LIBS gtrace_lib m)
target_compile_definitions(test_lib PRIVATE
  GT_TEST_DISABLED_EXE="$<TARGET_FILE:test_lib_disabled>"
  GT_TEST_CPP_EXE="$<TARGET_FILE:test_lib_cpp>")
add_dependencies(test_lib test_lib_disabled test_lib_cpp)
if(GT_SANITIZE)
  # instrumentation lengthens every path: the disassembly smoke test is moot
  target_compile_definitions(test_lib PRIVATE GT_TEST_NO_DISASM)
endif()

# gtrace.h alone as ISO C11 (no GNU dialect) against the static library
gt_unit_test(test_lib_c11 SOURCES test_lib_c11.c LIBS gtrace_static)
set_target_properties(test_lib_c11 PROPERTIES C_STANDARD 11 C_EXTENSIONS OFF)
