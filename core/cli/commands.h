// The `inlet` subcommands. Each returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace inlet::cli {

int serve(const std::vector<std::string>& args);
int check(const std::vector<std::string>& args);
int plugins(const std::vector<std::string>& args);
int verify(const std::vector<std::string>& args);
int replay(const std::vector<std::string>& args);
int importSql(const std::vector<std::string>& args);
int usage(int code);

}  // namespace inlet::cli
