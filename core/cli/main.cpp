#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "journal/sqlite.h"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  inlet::journal::configureSqliteProcess();
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return inlet::cli::usage(2);
  std::string cmd = args.front();
  args.erase(args.begin());
  try {
    if (cmd == "serve") return inlet::cli::serve(args);
    if (cmd == "check") return inlet::cli::check(args);
    if (cmd == "plugins") return inlet::cli::plugins(args);
    if (cmd == "verify") return inlet::cli::verify(args);
    if (cmd == "replay") return inlet::cli::replay(args);
    if (cmd == "import-sql") return inlet::cli::importSql(args);
    if (cmd == "-h" || cmd == "--help" || cmd == "help") return inlet::cli::usage(0);
  } catch (const std::exception& e) {
    std::cerr << "inlet " << cmd << ": " << e.what() << "\n";
    return 2;
  }
  std::cerr << "inlet: unknown command '" << cmd << "'\n";
  return inlet::cli::usage(2);
}
