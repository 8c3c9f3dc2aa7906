// libFuzzer harness for a pipeline's request → events step (core/pipeline, Pipeline::prepare):
// decoding (JSON, raw, form), splitting (JSON lines, arrays), typed columns read through JSON
// pointers and from headers, and the dedup key, on the body and headers a sender controls.
//
// Fuzz input: a byte choosing the pipeline's shape and one choosing its columns, a line with the
// JSON pointer its column and dedup key use, header lines ("name: value") up to an empty line,
// then the body.
//
// Checked on every input:
//   A refusal is 422 with one of the documented reason codes (invalid_json, missing_column,
//   invalid_column), carries no events, and its body is valid JSON.
//   An acceptance carries at least one event. Each event's raw body is the request body (no
//   split) or a span of it (split), and never a byte more; its data, when present, is valid
//   JSON, and is present whenever the pipeline decodes JSON; its columns are a valid JSON
//   object when columns are configured and empty otherwise; its headers are a valid JSON
//   object. Event ids are distinct, and the dedup claim is at most 512 bytes.
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "check.h"
#include "pipeline/pipeline.h"
#include "util/json.h"

using inlet::config::ColumnConfig;
using inlet::config::DedupConfig;
using inlet::config::PipelineConfig;
using inlet::pipeline::Pipeline;

namespace {

bool isObject(std::string_view json) {
  auto t = inlet::util::trimJsonSpace(json);
  return inlet::util::isValidJson(t) && !t.empty() && t.front() == '{';
}

PipelineConfig shape(uint8_t bits, uint8_t columns, const std::string& pointer) {
  PipelineConfig c;
  c.name = "fuzz";
  c.provider = "none";
  static const PipelineConfig::Split splits[] = {
      PipelineConfig::Split::None, PipelineConfig::Split::Jsonl, PipelineConfig::Split::Array,
      PipelineConfig::Split::None};
  static const PipelineConfig::Decode decodes[] = {
      PipelineConfig::Decode::Json, PipelineConfig::Decode::Raw, PipelineConfig::Decode::Form,
      PipelineConfig::Decode::Json};
  c.split = splits[bits & 3];
  c.decode = c.split == PipelineConfig::Split::None ? decodes[(bits >> 2) & 3]
                                                    : PipelineConfig::Decode::Json;
  switch ((bits >> 4) & 3) {
    case 0:
      break;
    case 1:
      c.dedup.kind = DedupConfig::Kind::Json;
      c.dedup.argument = pointer;
      break;
    case 2:
      c.dedup.kind = DedupConfig::Kind::Header;
      c.dedup.argument = "x-dedup";
      break;
    case 3:
      c.dedup.kind = DedupConfig::Kind::Auto;
      break;
  }
  // One column through the pointer and one from a header, each of a type the second byte
  // chooses (or none), so that every type meets every value.
  static const ColumnConfig::Type types[] = {
      ColumnConfig::Type::Text,    ColumnConfig::Type::Integer,   ColumnConfig::Type::Real,
      ColumnConfig::Type::Boolean, ColumnConfig::Type::Timestamp, ColumnConfig::Type::Json};
  if ((columns & 7) < 6) {
    ColumnConfig from_json;
    from_json.name = "from_json";
    from_json.type = types[columns & 7];
    from_json.pointer = pointer;
    from_json.required = (columns & 0x40) != 0;
    c.columns.push_back(from_json);
  }
  if (((columns >> 3) & 7) < 6) {
    ColumnConfig from_header;
    from_header.name = "from_header";
    from_header.type = types[(columns >> 3) & 7];
    from_header.header = "x-col";
    from_header.required = (columns & 0x80) != 0;
    c.columns.push_back(from_header);
  }
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t bits = data[0], columns = data[1];
  std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  auto line = [&rest]() {
    size_t nl = rest.find('\n');
    std::string_view l = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    return std::string(l);
  };
  // The config accepts only pointers that start with '/'.
  std::string pointer = line();
  if (pointer.empty() || pointer.front() != '/') pointer.insert(0, "/");
  inlet::pipeline::Request r;
  r.method = "POST";
  r.target = "/fuzz";
  r.url = "http://localhost/fuzz";
  r.remote_addr = "127.0.0.1:1";
  r.received_ms = 1'700'000'000'000;
  while (!rest.empty()) {
    std::string h = line();
    if (h.empty()) break;
    size_t colon = h.find(':');
    std::string name = h.substr(0, colon);
    for (char& ch : name)
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    // As the HTTP parser hands them over: lower-case names, values without surrounding space.
    std::string value = colon == std::string::npos ? "" : h.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t") + 1);
    r.headers.emplace_back(name, value);
  }
  r.body = std::string(rest);  // a buffer of its own, so that ASan sees any read past its end

  const PipelineConfig config = shape(bits, columns, pointer);
  Pipeline pipeline(config, nullptr);  // prepare() never calls the auth provider
  inlet_auth_result verdict{};
  verdict.verdict = INLET_ACCEPT;
  // The first header's value stands for the provider's delivery id (dedup key: auto).
  std::string delivery = r.headers.empty() ? "" : r.headers.front().second;
  delivery.copy(verdict.delivery_id, sizeof verdict.delivery_id - 1);
  std::string("fuzz").copy(verdict.event_type, sizeof verdict.event_type - 1);

  auto prepared = pipeline.prepare(r, verdict);
  if (!prepared.ok) {
    CHECK(prepared.events.empty());
    CHECK(prepared.error.status == 422);
    CHECK(prepared.error.code == "invalid_json" || prepared.error.code == "missing_column" ||
          prepared.error.code == "invalid_column");
    CHECK(inlet::util::isValidJson(prepared.error.body));
    return 0;
  }
  CHECK(!prepared.events.empty());
  CHECK(prepared.claim_key.size() <= 512);
  std::set<std::string> ids;
  for (const auto& e : prepared.events) {
    CHECK(ids.insert(e.id).second);
    if (config.split == PipelineConfig::Split::None)
      CHECK(e.body == r.body);
    else
      CHECK(e.body.size() <= r.body.size() && r.body.find(e.body) != std::string::npos);
    if (!e.data_json.empty()) CHECK(inlet::util::isValidJson(e.data_json));
    if (config.decode == PipelineConfig::Decode::Json) CHECK(!e.data_json.empty());
    if (config.columns.empty())
      CHECK(e.columns_json.empty());
    else
      CHECK(isObject(e.columns_json));
    CHECK(isObject(e.headers_json));
  }
  return 0;
}
