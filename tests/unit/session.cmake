# Long-lived sessions: rotation between sinks (gt_collector_set_sink) under a
# concurrent producer, and the per-user state directories (sessdir.c).
gt_unit_test(test_session SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_session.c LIBS gtcollector)
# System sessions: registry entries and control blocks as untrusted input (system.c).
gt_unit_test(test_system SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_system.c LIBS gtcollector)
