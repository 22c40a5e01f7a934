// Clang thread-safety annotations (no-ops for other compilers), as LevelDB
// uses them; common/mutex.h is the lock they know. The clang build in CI
// (scripts/test --clang) turns -Wthread-safety into errors.
#pragma once

#if defined(__clang__)
#define SLIPWAY_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define SLIPWAY_THREAD_ANNOTATION_(x)
#endif

#define CAPABILITY(x) SLIPWAY_THREAD_ANNOTATION_(capability(x))
#define SCOPED_CAPABILITY SLIPWAY_THREAD_ANNOTATION_(scoped_lockable)
#define GUARDED_BY(x) SLIPWAY_THREAD_ANNOTATION_(guarded_by(x))
#define PT_GUARDED_BY(x) SLIPWAY_THREAD_ANNOTATION_(pt_guarded_by(x))
#define ACQUIRE(...) SLIPWAY_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))
#define RELEASE(...) SLIPWAY_THREAD_ANNOTATION_(release_capability(__VA_ARGS__))
#define EXCLUSIVE_LOCKS_REQUIRED(...) \
  SLIPWAY_THREAD_ANNOTATION_(exclusive_locks_required(__VA_ARGS__))
#define LOCKS_EXCLUDED(...) SLIPWAY_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS SLIPWAY_THREAD_ANNOTATION_(no_thread_safety_analysis)
