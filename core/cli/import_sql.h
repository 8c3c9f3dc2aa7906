// `inlet import-sql FILE.sql`: turns RisingWave webhook DDL into an Inlet config.
//
// Reads
//   CREATE SECRET name WITH (backend = 'meta') AS 'value';
//   CREATE TABLE [db.[schema.]]name (data JSONB) WITH (connector = 'webhook')
//     VALIDATE [SECRET s] AS <expression>;
// and prints a YAML config with one pipeline per webhook table, at RisingWave's path
// /webhook/{database}/{schema}/{table} (defaults: database `dev`, schema `public`), verified by
// the `expression` auth provider with the VALIDATE expression copied verbatim.
#pragma once

#include <iosfwd>
#include <string>

namespace inlet::cli {

// Writes the config to `out`; notes and every skipped statement (with its line number) to `err`.
// Secret values are written into the config only when `include_secret_values` is set; otherwise
// each secret reads from the environment variable INLET_SECRET_<NAME>.
// Returns 0 when at least one pipeline was produced, 2 when nothing usable was found (or the
// file cannot be read).
int runImportSql(const std::string& sql_path, bool include_secret_values, std::ostream& out,
                 std::ostream& err);

// The same, from SQL text (`source_name` is used in messages).
int importSqlText(const std::string& sql, const std::string& source_name,
                  bool include_secret_values, std::ostream& out, std::ostream& err);

}  // namespace inlet::cli
