// Copyright 2026 The bouncekit authors.
//
// A configuration document: the tree that rule files and policy files are
// read into. It is produced by ParseToml() (a strict TOML subset, below) or
// built by hand (the Python binding builds one from a dict, so JSON and YAML
// files work too). Every value remembers where it came from, so validation
// errors can name the line and column.
//
// Supported TOML: comments; bare, quoted and dotted keys; [table] and
// [[array.of.tables]] headers; basic "...", literal '...', multi-line """...""" and
// '''...''' strings; integers (with _ separators, +/-, 0x/0o/0b), floats,
// inf/nan; booleans; arrays (multi-line, trailing comma); inline tables.
// Dates and times are rejected with a clear error (nothing here needs them).

#ifndef BOUNCEKIT_CONFIG_H_
#define BOUNCEKIT_CONFIG_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace bouncekit {

class ConfigValue {
 public:
  enum class Type : uint8_t { kNull, kBool, kInt, kDouble, kString, kArray, kTable };

  ConfigValue() = default;
  static ConfigValue Bool(bool v);
  static ConfigValue Int(int64_t v);
  static ConfigValue Double(double v);
  static ConfigValue String(std::string v);
  static ConfigValue Array();
  static ConfigValue Table();

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_int() const { return type_ == Type::kInt; }
  bool is_double() const { return type_ == Type::kDouble; }
  bool is_number() const { return is_int() || is_double(); }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_table() const { return type_ == Type::kTable; }

  bool bool_value() const { return bool_; }
  int64_t int_value() const { return int_; }
  double number_value() const { return is_int() ? static_cast<double>(int_) : double_; }
  const std::string& string_value() const { return string_; }
  const std::vector<ConfigValue>& items() const { return items_; }
  std::vector<ConfigValue>& mutable_items() { return items_; }
  const std::vector<std::pair<std::string, ConfigValue>>& entries() const { return entries_; }

  // Table lookup; nullptr when absent or when this is not a table.
  const ConfigValue* Find(absl::string_view key) const;
  ConfigValue* FindMutable(absl::string_view key);
  // Appends key/value to a table (no duplicate check; the parser checks).
  ConfigValue& Set(std::string key, ConfigValue value);

  // "string", "integer", "array", ... for error messages.
  absl::string_view TypeName() const;
  static absl::string_view TypeName(Type t);

  // Source position (1-based; 0 when built by hand).
  int32_t line() const { return line_; }
  int32_t column() const { return column_; }
  void set_position(int32_t line, int32_t column) {
    line_ = line;
    column_ = column;
  }

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  int64_t int_ = 0;
  double double_ = 0;
  std::string string_;
  std::vector<ConfigValue> items_;
  std::vector<std::pair<std::string, ConfigValue>> entries_;
  int32_t line_ = 0;
  int32_t column_ = 0;
};

// Parses TOML text into a table. Errors are InvalidArgument with the line and
// column attached (see error_location.h) and in the message, prefixed with
// `source_name` when it is not empty.
absl::StatusOr<ConfigValue> ParseToml(absl::string_view text,
                                      absl::string_view source_name = "");

}  // namespace bouncekit

#endif  // BOUNCEKIT_CONFIG_H_
