// A Prometheus histogram that any thread may feed without a lock: fixed upper bounds, one
// atomic counter per bucket, rendered in the text exposition format (cumulative `_bucket`
// lines with `le`, then `_sum` and `_count`).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace inlet::util {

class Histogram {
 public:
  // `bounds` ascending; a last bucket, `+Inf`, is added.
  explicit Histogram(std::vector<double> bounds);

  void observe(double value);
  // Appends the `_bucket`, `_sum` and `_count` lines of `name`; `labels` is empty or
  // `key="value",…` (without braces).
  void render(std::string& out, std::string_view name, std::string_view labels = {}) const;

  uint64_t count() const;

  // Bucket bounds in seconds for latencies from 0.1 ms to 10 s.
  static std::vector<double> latencyBounds();

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1 (+Inf)
  std::atomic<double> sum_{0};
};

}  // namespace inlet::util
