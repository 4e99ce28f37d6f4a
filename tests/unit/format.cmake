# format/: the .gtrace codec (writer, reader, renderer).
gt_unit_test(test_format SOURCES test_format.c LIBS gtfmt m)

# Fuzz corpus replay: feeds every file of tests/fuzz/corpus/reader/ to the
# reader's fuzz entry point, as a normal test (no libFuzzer needed).
add_executable(fuzz_reader_replay ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_reader.c
  ${CMAKE_SOURCE_DIR}/tests/fuzz/replay.c)
target_include_directories(fuzz_reader_replay PRIVATE ${CMAKE_SOURCE_DIR} ${GT_PUBLIC_INCLUDES})
target_link_libraries(fuzz_reader_replay PRIVATE gtfmt)
add_test(NAME fuzz.reader.replay
  COMMAND fuzz_reader_replay ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/reader)
set_tests_properties(fuzz.reader.replay PROPERTIES TIMEOUT 300)

# Real fuzzers (clang + libFuzzer; GT_FUZZ is declared in format/CMakeLists.txt):
#   cmake -B build-fuzz -DGT_FUZZ=ON -DCMAKE_C_COMPILER=clang -DGT_SANITIZE=address,undefined
#   build-fuzz/tests/unit/fuzz_reader -max_total_time=300 <copy of tests/fuzz/corpus/reader>
if(GT_FUZZ)
  add_executable(fuzz_reader ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_reader.c)
  target_include_directories(fuzz_reader PRIVATE ${CMAKE_SOURCE_DIR} ${GT_PUBLIC_INCLUDES})
  target_compile_options(fuzz_reader PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_reader PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_reader PRIVATE gtfmt)
endif()
