// A mutex the thread-safety analysis knows (libstdc++'s std::mutex carries
// no annotations), its scoped lock, and waiting on a condition with it held.
// Use these, not std::mutex, wherever data is shared between threads, and
// mark that data GUARDED_BY the mutex.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "common/thread_annotations.h"

namespace slipway {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ACQUIRE() { mutex_.lock(); }
  void unlock() RELEASE() { mutex_.unlock(); }

  // Waits until `done()` or `timeout`, with this mutex held on entry and on
  // return (released meanwhile); returns done(). `done` runs with it held.
  template <typename Predicate>
  bool wait_for(std::condition_variable_any& signal, std::chrono::milliseconds timeout,
                Predicate done) EXCLUSIVE_LOCKS_REQUIRED(this) {
    return signal.wait_for(mutex_, timeout, done);
  }

 private:
  std::mutex mutex_;
};

class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mutex) ACQUIRE(mutex) : mutex_(mutex) { mutex_.lock(); }
  ~MutexLock() RELEASE() { mutex_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mutex_;
};

}  // namespace slipway
