// One source, several deliberately broken plugins (selected by a BROKEN_* definition), each
// of which the host must refuse with a reason that names the problem.
#include <inlet/abi.h>
#include <openssl/opensslv.h>

extern "C" {

static int32_t create(const inlet_host*, inlet_str, const inlet_secret*, size_t, void** instance,
                      inlet_error*) {
  static int dummy;
  *instance = &dummy;
  return INLET_OK;
}
static void destroy(void*) {}
static int32_t verify(void*, const inlet_auth_request*, inlet_auth_result* r) {
  r->verdict = INLET_ACCEPT;
  return INLET_OK;
}

#ifndef BROKEN_NO_MAGIC
INLET_EXPORT const inlet_magic* inlet_plugin_magic(void) {
  static inlet_magic m = {sizeof(inlet_magic),
                          INLET_MAGIC_TAG,
                          INLET_ABI_MAJOR,
                          INLET_ABI_MINOR,
                          static_cast<uint32_t>(__GXX_ABI_VERSION),
                          static_cast<uint32_t>(OPENSSL_VERSION_MAJOR),
                          static_cast<uint32_t>(sizeof(void*))};
#ifdef BROKEN_MAJOR
  m.abi_major = INLET_ABI_MAJOR + 1;
#endif
#ifdef BROKEN_NEWER_MINOR
  m.abi_minor = INLET_ABI_MINOR + 1;
#endif
#ifdef BROKEN_CXX_ABI
  m.cxx_abi = 1;
#endif
#ifdef BROKEN_OPENSSL
  m.openssl_major = 1;
#endif
#ifdef BROKEN_TAG
  m.tag = 0xDEADBEEF;
#endif
  return &m;
}
#else
INLET_EXPORT int not_an_inlet_plugin(void) { return 42; }
#endif

#ifndef BROKEN_NO_ENTRY
INLET_EXPORT const inlet_plugin* inlet_plugin_entry(void) {
  static inlet_plugin p = {sizeof(inlet_plugin),
                           INLET_ABI_MAJOR,
                           INLET_ABI_MINOR,
                           INLET_KIND_AUTH,
                           "broken",
                           "0.0.1",
                           "deliberately broken",
                           "{}",
                           &create,
                           &destroy,
                           &verify,
                           nullptr,
                           nullptr};
#ifdef BROKEN_SMALL_DESCRIPTOR
  p.size = 16;
#endif
#ifdef BROKEN_NO_VERIFY
  p.verify = nullptr;
#endif
#ifdef BROKEN_JOURNAL_SINK
  // A sink named as the host's built-in sink type.
  p.kind = INLET_KIND_SINK;
  p.name = "journal";
  p.verify = nullptr;
  p.prepare = [](void*, const inlet_table_spec*, inlet_error*) -> int32_t { return INLET_OK; };
  p.write = [](void*, const inlet_event*, size_t, inlet_error*) -> int32_t { return INLET_OK; };
#endif
  return &p;
}
#endif
}
