// The metrics' histograms: bucket placement at the bounds, cumulative rendering, concurrency.
#include "util/histogram.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

using inlet::util::Histogram;

TEST(Histogram, RendersCumulativeBucketsSumAndCount) {
  Histogram h({0.001, 0.01, 0.1});
  for (double v : {0.0005, 0.001, 0.002, 0.05, 3.0}) h.observe(v);
  std::string out;
  h.render(out, "x_seconds", "pipeline=\"p\"");
  EXPECT_EQ(out,
            "x_seconds_bucket{pipeline=\"p\",le=\"0.001\"} 2\n"  // a bound belongs to its bucket
            "x_seconds_bucket{pipeline=\"p\",le=\"0.01\"} 3\n"
            "x_seconds_bucket{pipeline=\"p\",le=\"0.1\"} 4\n"
            "x_seconds_bucket{pipeline=\"p\",le=\"+Inf\"} 5\n"
            "x_seconds_sum{pipeline=\"p\"} 3.0535\n"
            "x_seconds_count{pipeline=\"p\"} 5\n");
  EXPECT_EQ(h.count(), 5u);
}

TEST(Histogram, WithoutLabelsAndEmpty) {
  Histogram h({1, 2});
  std::string out;
  h.render(out, "n");
  EXPECT_EQ(out,
            "n_bucket{le=\"1\"} 0\nn_bucket{le=\"2\"} 0\nn_bucket{le=\"+Inf\"} 0\n"
            "n_sum 0\nn_count 0\n");
}

TEST(Histogram, UnsortedBoundsAreSorted) {
  Histogram h({10, 1});
  h.observe(5);
  std::string out;
  h.render(out, "n");
  EXPECT_NE(out.find("n_bucket{le=\"1\"} 0\nn_bucket{le=\"10\"} 1\n"), std::string::npos) << out;
}

TEST(Histogram, LatencyBoundsPrintShortest) {
  Histogram h(Histogram::latencyBounds());
  std::string out;
  h.render(out, "t");
  EXPECT_NE(out.find("le=\"0.0001\""), std::string::npos) << out;
  EXPECT_NE(out.find("le=\"0.0075\""), std::string::npos) << out;
  EXPECT_NE(out.find("le=\"10\""), std::string::npos) << out;
  EXPECT_EQ(out.find("000000"), std::string::npos) << out;  // no float noise
}

TEST(Histogram, ConcurrentObservationsAreAllCounted) {
  Histogram h({0.5});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 10000; ++i) h.observe(t % 2 ? 1.0 : 0.25);
    });
  for (auto& t : threads) t.join();
  std::string out;
  h.render(out, "c");
  EXPECT_NE(out.find("c_bucket{le=\"0.5\"} 20000\nc_bucket{le=\"+Inf\"} 40000\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("c_sum 25000\n"), std::string::npos) << out;
  EXPECT_EQ(h.count(), 40000u);
}
