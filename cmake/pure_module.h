/* Forced in front of every source file of the pure modules, src/core, src/venue and
 * src/indicators (see CMakeLists.txt): they decide or compute, they do not wait, talk or tell
 * time. A file of theirs that includes a header declaring one of the identifiers below fails to
 * compile with "attempt to use poisoned", so a thread, an RPC, a protobuf message or a clock
 * cannot creep in by an include. Time reaches these modules as an argument (the command's
 * receive time); randomness from a seeded generator. The names cover <pthread.h>,
 * <grpc/grpc.h>, <protobuf-c/protobuf-c.h> and the clock functions of <time.h> and
 * <sys/time.h>; cmake/check_layering.cmake (the test build.layering) checks that they do. */
#ifndef TINVESTD_PURE_MODULE_H
#define TINVESTD_PURE_MODULE_H

/* <pthread.h> */
#pragma GCC poison pthread_create pthread_join pthread_detach pthread_self pthread_once
#pragma GCC poison pthread_mutex_init pthread_mutex_lock pthread_mutex_trylock
#pragma GCC poison pthread_mutex_unlock pthread_cond_init pthread_cond_wait
#pragma GCC poison pthread_cond_timedwait pthread_cond_signal pthread_cond_broadcast
#pragma GCC poison pthread_key_create pthread_setspecific pthread_getspecific

/* <grpc/grpc.h> */
#pragma GCC poison grpc_init grpc_shutdown grpc_completion_queue_create_for_next
#pragma GCC poison grpc_completion_queue_next grpc_call_start_batch grpc_server_create
#pragma GCC poison grpc_channel_create grpc_call_unref

/* <protobuf-c/protobuf-c.h> */
#pragma GCC poison protobuf_c_version protobuf_c_message_pack protobuf_c_message_unpack
#pragma GCC poison protobuf_c_message_free_unpacked protobuf_c_message_get_packed_size

/* Clocks: <time.h>, <sys/time.h> */
#pragma GCC poison clock_gettime clock_getres gettimeofday time timespec_get clock nanosleep

#endif
