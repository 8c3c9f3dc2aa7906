#include "util/histogram.h"

#include <algorithm>
#include <charconv>

namespace inlet::util {

namespace {

// The shortest text that reads back as `v`, without an exponent when it fits ("0.0001", "10",
// "25000"), as Prometheus clients print bounds and sums.
std::string number(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  if (r.ec != std::errc()) r = std::to_chars(buf, buf + sizeof buf, v);  // tiny or huge
  return std::string(buf, r.ptr);
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  std::sort(bounds_.begin(), bounds_.end());
}

void Histogram::observe(double value) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

uint64_t Histogram::count() const {
  uint64_t n = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) n += buckets_[i].load(std::memory_order_relaxed);
  return n;
}

void Histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
  const std::string sep = labels.empty() ? "" : ",";
  const std::string braces = labels.empty() ? "" : "{" + std::string(labels) + "}";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out.append(name).append("_bucket{").append(labels).append(sep).append("le=\"");
    out.append(i < bounds_.size() ? number(bounds_[i]) : "+Inf").append("\"} ");
    out.append(std::to_string(cumulative)).append("\n");
  }
  out.append(name).append("_sum").append(braces).append(" ");
  out.append(number(sum_.load(std::memory_order_relaxed))).append("\n");
  // The count is the +Inf bucket's, so that the two agree within one rendering.
  out.append(name).append("_count").append(braces).append(" ");
  out.append(std::to_string(cumulative)).append("\n");
}

std::vector<double> Histogram::latencyBounds() {
  // Fine between 1 and 20 ms, where a group commit and an acknowledgement usually fall.
  return {0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015,
          0.02,   0.03,    0.05,   0.1,   0.25,  0.5,   1,     2.5,   5,      10};
}

}  // namespace inlet::util
