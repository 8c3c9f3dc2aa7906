// JSON Lines file sink: one JSON object per event, appended and fsync'ed per batch, with
// rotation by size and by time (`<path>` is renamed to `<path>.<UTC timestamp>`).
#pragma once

#include <inlet/sdk.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace inlet::sinks {

class FileSink : public sdk::Sink {
 public:
  struct Options {
    std::string path;
    int64_t max_bytes = 0;        // 0: no size rotation
    int64_t rotate_every_ms = 0;  // 0: no time rotation
    bool fsync = true;            // off only for throw-away data: Ok then means "in the page cache"
  };

  // Counters, for tests and diagnostics.
  struct Stats {
    uint64_t file_syncs = 0;  // fsync() of the data file (one per successful batch)
    uint64_t dir_syncs = 0;   // fsync() of the parent directory (file created or rotated)
    uint64_t rotations = 0;
  };

  FileSink(Options options, sdk::Host host);
  ~FileSink() override;
  static std::unique_ptr<FileSink> create(const sdk::Config& config,
                                          const std::vector<sdk::Secret>& secrets,
                                          const sdk::Host& host);

  void prepare(const sdk::TableSpec& table) override;
  sdk::WriteResult write(const std::vector<sdk::Event>& events, std::string& error) override;

  const Stats& stats() const { return stats_; }
  // One event as its JSON Lines record (without the trailing newline).
  static std::string formatLine(const sdk::Event& event);

 private:
  bool openFile(std::string& error);
  void closeFile();
  bool rotate(int64_t now_ms, std::string& error);
  bool syncDir(std::string& error);

  Options options_;
  sdk::Host host_;
  int fd_ = -1;
  int64_t size_ = 0;     // current size of the open file
  int64_t period_ = -1;  // rotate_every period index of the open file's last write
  Stats stats_;
};

// "2024-01-02T03:04:05.123Z"
std::string isoUtcMs(int64_t ms);

}  // namespace inlet::sinks
