// A throw-away PKI for TLS tests, made with the openssl CLI in a temporary folder: a CA, server
// certificates it signs for given DNS names, and a second CA that signed nothing here.
#pragma once

#include <Poco/Net/Context.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "inlet/testing/server.h"

namespace inlet::testing {

class TestPki {
 public:
  // Issues one certificate per name (subjectAltName DNS:<name>), signed by ca.pem.
  explicit TestPki(const std::vector<std::string>& hosts) {
    newCa("ca", "inlet-test-ca");
    newCa("other-ca", "inlet-other-ca");  // trusting only this one must fail every handshake
    for (const auto& h : hosts) issue(h);
  }
  std::string path(const std::string& name) const { return dir_.str(name); }
  std::string caFile() const { return path("ca.pem"); }
  std::string otherCaFile() const { return path("other-ca.pem"); }
  std::string certFile(const std::string& host) const { return path(host + ".pem"); }
  std::string keyFile(const std::string& host) const { return path(host + ".key"); }
  // A server context presenting the certificate issued for `host`.
  Poco::Net::Context::Ptr serverContext(const std::string& host) const {
    return new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, keyFile(host), certFile(host),
                                  "", Poco::Net::Context::VERIFY_NONE);
  }

 private:
  void run(const std::string& cmd) const {
    std::string full = "cd '" + dir_.path().string() + "' && " + cmd + " >/dev/null 2>&1";
    if (std::system(full.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
  }
  void newCa(const std::string& name, const std::string& cn) const {
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
        "-subj /CN=" +
        cn + " -keyout " + name + ".key -out " + name + ".pem");
  }
  void issue(const std::string& host) const {
    std::ofstream(path(host + ".ext")) << "subjectAltName=DNS:" << host << "\n";
    run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" + host +
        " -keyout " + host + ".key -out " + host + ".csr");
    run("openssl x509 -req -in " + host + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 " +
        "-extfile " + host + ".ext -out " + host + ".pem");
  }
  TempDir dir_;
};

}  // namespace inlet::testing
