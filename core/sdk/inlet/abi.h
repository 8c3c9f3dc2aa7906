/*
 * Inlet plugin ABI — the only thing that crosses the boundary between the host (`inlet`) and a
 * plugin shared object (an auth provider or a sink).
 *
 * Rules (they are what keeps old plugins loadable and broken ones refused):
 *  - Only C types cross: {ptr,len} views, POD structs, enums, function pointers, opaque handles.
 *    No C++ type, no exception, no allocation owned by the other side.
 *  - Every struct starts with `uint32_t size` (its sizeof as the producer compiled it) and is
 *    append-only within a major version. A reader never touches fields beyond `size`.
 *  - A plugin exports exactly two symbols: `inlet_plugin_magic` and `inlet_plugin_entry`.
 *    The host calls the magic first and refuses the file when any build fact differs, when the
 *    major ABI version differs, or when the plugin was built for a newer minor than the host.
 *  - Every function pointer is noexcept on the plugin side (the SDK catches everything) and
 *    reports errors through its return value.
 *
 * OWNERSHIP: views (`inlet_str`) passed into a plugin call are borrowed for the duration of
 * that call only. Result structs are host-owned memory the plugin fills in place; strings the
 * plugin returns are copied into fixed buffers (truncated, always NUL-terminated).
 * Instances (`void* instance`) are plugin-owned and released by `destroy`; the host keeps the
 * library loaded until every instance it created has been destroyed.
 */
#ifndef INLET_SDK_ABI_H
#define INLET_SDK_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define INLET_ABI_MAJOR 1u
#define INLET_ABI_MINOR 0u
#define INLET_MAGIC_TAG 0x494E4C54u /* "INLT" */

/* Export marker: the SDK builds plugins with -fvisibility=hidden; only these two are public. */
#if defined(__GNUC__)
#define INLET_EXPORT __attribute__((visibility("default")))
#else
#define INLET_EXPORT
#endif

/* A borrowed byte view. Not NUL-terminated unless stated. */
typedef struct inlet_str {
  const char* ptr;
  size_t len;
} inlet_str;

/* Build facts compared at load time (in the spirit of PostgreSQL's PG_MODULE_MAGIC). */
typedef struct inlet_magic {
  uint32_t size;
  uint32_t tag;           /* INLET_MAGIC_TAG */
  uint32_t abi_major;     /* INLET_ABI_MAJOR the plugin was compiled against */
  uint32_t abi_minor;     /* INLET_ABI_MINOR the plugin was compiled against */
  uint32_t cxx_abi;       /* __GXX_ABI_VERSION (0 when not compiled by a GNU-compatible C++) */
  uint32_t openssl_major; /* OPENSSL_VERSION_MAJOR, or 0 when the plugin does not use OpenSSL */
  uint32_t pointer_size;  /* sizeof(void*) */
} inlet_magic;

typedef enum inlet_plugin_kind { INLET_KIND_AUTH = 1, INLET_KIND_SINK = 2 } inlet_plugin_kind;

typedef enum inlet_status {
  INLET_OK = 0,
  INLET_ERROR = 1, /* the call failed; see the error/message buffer */
  INLET_RETRY = 2, /* sinks: transient failure, the host retries with backoff */
  INLET_DROP = 3   /* sinks: permanent failure for this batch, the host dead-letters it */
} inlet_status;

typedef enum inlet_log_level {
  INLET_LOG_DEBUG = 0,
  INLET_LOG_INFO = 1,
  INLET_LOG_WARN = 2,
  INLET_LOG_ERROR = 3
} inlet_log_level;

/* Host services, passed in at create(); valid for the instance's lifetime; thread-safe. */
typedef struct inlet_host {
  uint32_t size;
  void* ctx;
  void (*log)(void* ctx, inlet_log_level level, inlet_str message);
  int64_t (*now_ms)(void* ctx); /* wall clock, Unix milliseconds (injectable in tests) */
} inlet_host;

/* Fixed-size error buffer filled by a failing call. */
#define INLET_ERROR_LEN 512
typedef struct inlet_error {
  uint32_t size;
  char message[INLET_ERROR_LEN];
} inlet_error;

/* A named secret resolved by the host (from env, file or value). Borrowed during create(). */
typedef struct inlet_secret {
  inlet_str name;
  inlet_str value;
} inlet_secret;

/* ------------------------------------------------------------------------------------------ */
/* Auth providers                                                                              */
/* ------------------------------------------------------------------------------------------ */

/* Header names are lower-cased by the host; repeated headers appear once per occurrence, in
 * arrival order. */
typedef struct inlet_header {
  inlet_str name;
  inlet_str value;
} inlet_header;

typedef struct inlet_auth_request {
  uint32_t size;
  inlet_str method; /* "POST" */
  inlet_str url;    /* absolute URL as the sender addressed it (public_url + path?query) */
  inlet_str target; /* the request target as received: path?query */
  const inlet_header* headers;
  size_t header_count;
  inlet_str body;        /* raw bytes, exactly as received */
  int64_t received_ms;   /* receive time, Unix milliseconds */
  inlet_str remote_addr; /* peer address "ip:port" */
} inlet_auth_request;

typedef enum inlet_verdict {
  INLET_REJECT = 0,
  INLET_ACCEPT = 1,
  /* Authentic, but answer with `response_body` and store nothing (e.g. Slack url_verification). */
  INLET_RESPOND = 2
} inlet_verdict;

/* Bit flags in inlet_auth_result.flags */
#define INLET_AUTH_FIRST_ITEM_ONLY 0x1u /* only the first element of a batch is authenticated */

typedef struct inlet_auth_result {
  uint32_t size;
  int32_t verdict;     /* inlet_verdict */
  int32_t http_status; /* for REJECT: 400, 401 or 403 */
  uint32_t flags;
  char code[64];         /* stable reason code: "signature_mismatch", … ; "" on accept */
  char message[256];     /* human text; never contains a secret */
  char detail[512];      /* diagnostics for `inlet verify` (expected vs received), never a secret */
  char delivery_id[256]; /* provider's delivery id, taken from what was authenticated if possible */
  char event_type[128];
  int64_t signed_timestamp_ms; /* 0 when the scheme has none */
  char response_content_type[64];
  char response_body[1024];
} inlet_auth_result;

/* ------------------------------------------------------------------------------------------ */
/* Sinks                                                                                       */
/* ------------------------------------------------------------------------------------------ */

typedef enum inlet_column_type {
  INLET_COL_TEXT = 0,
  INLET_COL_INTEGER = 1,
  INLET_COL_REAL = 2,
  INLET_COL_BOOLEAN = 3,
  INLET_COL_TIMESTAMP = 4, /* value is an ISO-8601 UTC string */
  INLET_COL_JSON = 5
} inlet_column_type;

typedef struct inlet_column {
  inlet_str name;
  int32_t type; /* inlet_column_type */
} inlet_column;

/* Announced once per pipeline a sink serves, before any event of it is written. */
typedef struct inlet_table_spec {
  uint32_t size;
  inlet_str pipeline;
  inlet_str table; /* pipeline's `table:` (defaults to the pipeline name) */
  const inlet_column* columns;
  size_t column_count;
} inlet_table_spec;

typedef struct inlet_event {
  uint32_t size;
  uint64_t seq; /* journal sequence number: strictly increasing */
  inlet_str id; /* time-ordered event id (UUIDv7 text) */
  inlet_str pipeline;
  inlet_str table;
  int64_t received_ms;
  inlet_str provider;
  inlet_str event_type;
  inlet_str delivery_id;
  inlet_str dedup_key;    /* "" when the pipeline has no dedup; unique per event otherwise */
  inlet_str headers_json; /* JSON object, lower-case names */
  inlet_str body;         /* raw body bytes (for split requests: this element's bytes) */
  inlet_str data_json;    /* the body as JSON text; empty when the body is not JSON */
  inlet_str columns_json; /* JSON object of typed column values (null for missing) */
  int32_t authenticated;  /* 1 when verified (0 e.g. for Segment batch items after the first) */
} inlet_event;

/* ------------------------------------------------------------------------------------------ */
/* The plugin descriptor                                                                       */
/* ------------------------------------------------------------------------------------------ */

typedef struct inlet_plugin {
  uint32_t size;
  uint32_t abi_major;
  uint32_t abi_minor;
  int32_t kind;              /* inlet_plugin_kind */
  const char* name;          /* "github", "sqlite", … (static storage) */
  const char* version;       /* the plugin's own version (static storage) */
  const char* description;   /* one line (static storage) */
  const char* config_schema; /* JSON schema of the plugin's options (static storage) */

  /* Creates an instance from validated options (JSON object text) and resolved secrets.
   * Auth providers receive the pipeline's bound secrets in configured order; sinks receive none.
   * Returns INLET_OK and sets *instance, or INLET_ERROR with err filled. */
  int32_t (*create)(const inlet_host* host, inlet_str config_json, const inlet_secret* secrets,
                    size_t secret_count, void** instance, inlet_error* err);
  void (*destroy)(void* instance);

  /* Auth only (NULL for sinks). Thread-safe: called concurrently from many request threads. */
  int32_t (*verify)(void* instance, const inlet_auth_request* request, inlet_auth_result* result);

  /* Sinks only (NULL for auth). Called from one delivery thread per instance. */
  int32_t (*prepare)(void* instance, const inlet_table_spec* table, inlet_error* err);
  int32_t (*write)(void* instance, const inlet_event* events, size_t count, inlet_error* err);
} inlet_plugin;

/* The two exported entry points. */
typedef const inlet_magic* (*inlet_plugin_magic_fn)(void);
typedef const inlet_plugin* (*inlet_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* INLET_SDK_ABI_H */
