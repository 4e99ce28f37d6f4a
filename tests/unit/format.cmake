# format/: the .gtrace codec (writer, reader, renderer).
gt_unit_test(test_format SOURCES test_format.c LIBS gtfmt m)
gt_unit_test(test_window SOURCES test_window.c LIBS gtfmt)
gt_unit_test(test_repair SOURCES test_repair.c LIBS gtfmt)

# Fuzz targets and their corpus replay tests: tests/fuzz/CMakeLists.txt.
