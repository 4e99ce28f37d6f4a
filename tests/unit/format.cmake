# format/: the .gtrace codec (writer, reader, renderer).
gt_unit_test(test_format SOURCES test_format.c LIBS gtfmt m)

# Fuzz targets and their corpus replay tests: tests/fuzz/CMakeLists.txt.
