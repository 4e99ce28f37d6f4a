# gtrace_pc.cmake - write gtrace.pc from gtrace.pc.in (or another .pc file:
# GT_PC_NAME, default "gtrace") for CMAKE_INSTALL_PREFIX.
#
# Included by cmake/CMakeLists.txt at configure time (writes GT_PC_OUT) and
# from its install code (GT_PC_INSTALL set), where CMAKE_INSTALL_PREFIX is
# the real prefix: the file then goes to $DESTDIR<prefix>/<libdir>/pkgconfig
# and into the install manifest.
# In: GT_PC_IN, GT_PC_VERSION, GT_PC_LIBDIR and GT_PC_INCLUDEDIR (relative to
# the prefix, or absolute), GT_PC_OUT (configure time only).
if(NOT GT_PC_NAME)
  set(GT_PC_NAME gtrace)
endif()
set(GT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
foreach(_gt_v LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${GT_PC_${_gt_v}}")
    set(GT_PC_${_gt_v}_PATH "${GT_PC_${_gt_v}}")
  else()
    set(GT_PC_${_gt_v}_PATH "\${prefix}/${GT_PC_${_gt_v}}")
  endif()
endforeach()
if(GT_PC_INSTALL)
  if(IS_ABSOLUTE "${GT_PC_LIBDIR}")
    set(GT_PC_OUT "$ENV{DESTDIR}${GT_PC_LIBDIR}/pkgconfig/${GT_PC_NAME}.pc")
  else()
    set(GT_PC_OUT "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/${GT_PC_LIBDIR}/pkgconfig/${GT_PC_NAME}.pc")
  endif()
  message(STATUS "Installing: ${GT_PC_OUT}")
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${GT_PC_OUT}")
endif()
configure_file("${GT_PC_IN}" "${GT_PC_OUT}" @ONLY)
