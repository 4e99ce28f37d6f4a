# Collector unit tests: profiles, op names, segment validation and ring drain
# against hand-built (and hostile) segments, session handshake over a socket.
gt_unit_test(test_profile SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_profile.c LIBS gtcollector)
gt_unit_test(test_collector SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_collector.c LIBS gtcollector)
gt_unit_test(test_batch SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_batch.c LIBS gtcollector)
