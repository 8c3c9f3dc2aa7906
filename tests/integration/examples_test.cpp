// Every shipped example config passes `inlet check` against the real plugins, so the docs can
// never drift from the code. Secrets come from the environment with values of the right shape.
#include <gtest/gtest.h>
#include <inlet/testing/server.h>

#include <regex>

using namespace inlet::testing;

namespace {

std::string envValue(const std::string& name) {
  if (name == "DISCORD_PUBLIC_KEY")
    return "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";  // RFC 8032 test 1
  if (name == "SENDGRID_WEBHOOK_VERIFICATION_KEY")
    return "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+"
           "u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==";
  if (name.find("STANDARD_WEBHOOKS") != std::string::npos ||
      name.find("SIGNING_SECRET") != std::string::npos)
    return "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  return "example-" + name;
}

TEST(ExampleConfigs, AllPassCheck) {
  size_t checked = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(INLET_SOURCE_DIR) / "configs")) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    std::string text = readFile(entry.path());
    // The examples search build/plugins relative to the repository; point them at this build.
    text = std::regex_replace(text, std::regex(R"(path:\s*\[\s*build/plugins\s*\])"),
                              "path: [" + std::string(INLET_PLUGIN_DIR) + "]");
    TempDir dir;
    writeFile(dir.path() / "example.yaml", text);
    std::vector<std::string> env;
    std::smatch m;
    std::string rest = text;
    static const std::regex env_re(R"(env:\s*([A-Z_][A-Z0-9_]*))");
    while (std::regex_search(rest, m, env_re)) {
      env.push_back(m[1].str() + "=" + envValue(m[1].str()));
      rest = m.suffix();
    }
    std::string prefix;
    for (const auto& e : env) prefix += "export '" + e + "'; ";
    std::string out_file = dir.str("out.txt");
    int rc = std::system(("cd '" + dir.str() + "' && " + prefix + "'" + INLET_BINARY +
                          "' check -c example.yaml > '" + out_file + "' 2>&1")
                             .c_str());
    EXPECT_EQ(WEXITSTATUS(rc), 0) << readFile(out_file);
    ++checked;
  }
  EXPECT_GE(checked, 20u);
}

TEST(ExampleConfigs, HmacRecipesPassCheck) {
  // Each shipped recipe is an `auth:` block; wrap it in a pipeline and check it.
  size_t checked = 0;
  for (const auto& entry :
       fs::directory_iterator(fs::path(INLET_SOURCE_DIR) / "auth-providers/hmac/recipes")) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    std::string recipe = readFile(entry.path());
    std::smatch m;
    ASSERT_TRUE(std::regex_search(recipe, m, std::regex(R"(secrets:\s*\[([^\]]*)\])")));
    std::string secrets;
    std::stringstream names(m[1].str());
    for (std::string name; std::getline(names, name, ',');) {
      name.erase(0, name.find_first_not_of(' '));
      name.erase(name.find_last_not_of(' ') + 1);
      secrets += "  " + name + ": { value: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw }\n";
    }
    std::string indented;
    std::stringstream lines(recipe);
    for (std::string line; std::getline(lines, line);) indented += "    " + line + "\n";
    TempDir dir;
    writeFile(dir.path() / "c.yaml", "plugins: { path: [" + std::string(INLET_PLUGIN_DIR) +
                                         "] }\nsecrets:\n" + secrets + "pipelines:\n  recipe:\n" +
                                         indented);
    auto r = runInlet({"check", "-c", dir.str("c.yaml")});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    ++checked;
  }
  EXPECT_GE(checked, 8u);
}

}  // namespace
