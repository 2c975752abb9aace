#pragma once
// Runs tasks on threads so that no failure can end the process: an exception from a task (an
// allocation failure) is rethrown on the caller's thread once every thread has joined, and a task
// whose thread cannot be started (a thread limit, or no memory for the thread's state) runs on the
// caller's thread instead: an exception must never leave while started threads are joinable, which
// would end the process (std::terminate).

#include <cstddef>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

namespace judgebias::detail {

// Calls fn(k) for k in [0, tasks), task 0 on the caller's thread and the others on threads of their own.
template <class Fn>
void parallel_for(std::size_t tasks, Fn&& fn) {
  std::vector<std::exception_ptr> thrown(tasks);
  auto task = [&](std::size_t k) {
    try {
      fn(k);
    } catch (...) {
      thrown[k] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(tasks);
  std::vector<std::size_t> not_started;
  not_started.reserve(tasks);
  for (std::size_t k = 1; k < tasks; ++k) {
    try {
      pool.emplace_back(task, k);
    } catch (...) {  // std::system_error, or std::bad_alloc
      not_started.push_back(k);
    }
  }
  if (tasks > 0) task(0);
  for (std::size_t k : not_started) task(k);
  for (auto& t : pool) t.join();
  for (auto& e : thrown)
    if (e) std::rethrow_exception(e);
}

}  // namespace judgebias::detail
