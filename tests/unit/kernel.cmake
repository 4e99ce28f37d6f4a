# Kernel events (collector/kernel.c): libtracefs + libtraceevent (Debian:
# libtracefs-dev libtraceevent-dev).  The module is built as its own static
# library, gtkernel, until the collector links it; test_kernel needs root and
# tracefs (it exits 77 otherwise), test_kernel_parse runs anywhere.
pkg_check_modules(TRACEFS IMPORTED_TARGET libtracefs)
pkg_check_modules(TRACEEVENT IMPORTED_TARGET libtraceevent)
if(NOT TRACEFS_FOUND OR NOT TRACEEVENT_FOUND)
  message(STATUS "libtracefs/libtraceevent not found: kernel event tests not built")
  return()
endif()
if(NOT TARGET gtkernel)
  add_library(gtkernel STATIC ${CMAKE_SOURCE_DIR}/collector/kernel.c)
  target_include_directories(gtkernel PUBLIC ${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/collector
    ${GT_PUBLIC_INCLUDES})
  target_compile_definitions(gtkernel PRIVATE _GNU_SOURCE)
  target_link_libraries(gtkernel PUBLIC gtfmt PkgConfig::TRACEFS PkgConfig::TRACEEVENT)
endif()
gt_unit_test(test_kernel SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_kernel.c LIBS gtkernel)

# The sub-buffer parser against damaged pages; includes kernel.c itself, runs without root.
gt_unit_test(test_kernel_parse SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_kernel_parse.c
  LIBS gtfmt PkgConfig::TRACEFS PkgConfig::TRACEEVENT)
target_compile_definitions(test_kernel_parse PRIVATE _GNU_SOURCE)
