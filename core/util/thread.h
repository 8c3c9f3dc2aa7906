// Thread priority for the work that runs behind the acknowledgement.
#pragma once

#include <string>
#include <thread>

namespace inlet::util {

// Raises the calling thread's nice value by `increment` (capped at 19); 0 leaves it alone.
// Threads that deliver to sinks and checkpoint the journal call it, so that under load the CPU
// goes first to the event loops and the group commit that acknowledgements wait for.
void lowerThreadPriority(int increment);

// Names the calling thread as `top -H`, `ps -L` and `perf` show it (cut to 15 bytes), e.g.
// "inlet-writer", "sink:local".
void nameThread(const std::string& name);
// The same for `thread`, from the thread that started it: the name is there before the caller
// goes on (a name set by the new thread itself may come after the caller's next step).
void nameThread(std::thread& thread, const std::string& name);

// The CPU cores this process may run on (its affinity mask, as taskset and cgroup cpusets set
// it), at least 1.
int usableCores();

}  // namespace inlet::util
