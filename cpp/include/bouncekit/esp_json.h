// Copyright 2026 The bouncekit authors.
//
// ESP event JSON -> events: Amazon SES (SNS notifications, also wrapped in
// an SNS envelope, and event publishing), SendGrid event webhook, Mailgun
// events (webhook "event-data" or events API items), Postmark bounce and
// spam-complaint webhooks, SparkPost message events ("msys" wrappers). The
// ESP's own bounce class is kept in esp_event / esp_class / esp_subclass.
//
// A small strict JSON parser (RFC 8259; depth-limited, linear time) is
// included; it is the only JSON reader of the core.

#ifndef BOUNCEKIT_ESP_JSON_H_
#define BOUNCEKIT_ESP_JSON_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bouncekit/parse.h"

namespace bouncekit {

struct JsonMember;

struct JsonValue {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  std::string text;  // string value, or the number as written
  std::vector<JsonValue> items;
  std::vector<JsonMember> members;  // in document order

  // Member `key` of an object, or nullptr.
  const JsonValue* Get(absl::string_view key) const;
  // String value, number as written, "true"/"false", or "" otherwise.
  std::string AsText() const;
};

struct JsonMember {
  std::string key;
  JsonValue value;
};

// Strict parse of one JSON document (trailing whitespace allowed).
absl::StatusOr<JsonValue> ParseJson(absl::string_view text, int max_depth = 64);

// Events of one JSON document (an object or an array of events). Errors:
// InvalidArgument for bad JSON or an unknown shape. Non-bounce events
// (deliveries of SendGrid 'processed', opens, clicks) give no event and no
// error; `*skipped` counts them.
absl::StatusOr<std::vector<BounceEvent>> ParseEspEvent(absl::string_view json,
                                                       absl::string_view provider,
                                                       int64_t* skipped);

// Many documents; one bad record never stops the others.
// provider: "auto", "ses", "sendgrid", "mailgun", "postmark", "sparkpost".
// OK for those; InvalidArgument (field "provider") for any other, which
// would make every record an error.
absl::Status CheckEspProvider(absl::string_view provider);
ParseBatch ParseEspJson(const std::vector<absl::string_view>& records,
                        absl::string_view provider);

}  // namespace bouncekit

#endif  // BOUNCEKIT_ESP_JSON_H_
