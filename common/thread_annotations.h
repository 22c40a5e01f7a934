// Clang thread-safety annotations (no-ops for other compilers), as LevelDB uses them.
#pragma once

#if defined(__clang__)
#define SLIPWAY_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define SLIPWAY_THREAD_ANNOTATION_(x)
#endif

#define GUARDED_BY(x) SLIPWAY_THREAD_ANNOTATION_(guarded_by(x))
#define EXCLUSIVE_LOCKS_REQUIRED(...) \
  SLIPWAY_THREAD_ANNOTATION_(exclusive_locks_required(__VA_ARGS__))
#define LOCKS_EXCLUDED(...) SLIPWAY_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))
