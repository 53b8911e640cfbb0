#pragma once
// Structured logs: one JSON object per line. The app configures spdlog's pattern so that a
// line is {"ts":…,"level":…,<fields>}; these helpers build the <fields> part with proper JSON
// escaping. Never pass a password, token or key as a field.

#include <initializer_list>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace tb::log {

struct Field {
    Field(std::string_view k, std::string_view v) : key(k), value(v) {}
    Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
    Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
    Field(std::string_view k, int64_t v) : key(k), value(v) {}
    Field(std::string_view k, int v) : key(k), value(v) {}
    Field(std::string_view k, double v) : key(k), value(v) {}
    Field(std::string_view k, bool v) : key(k), value(v) {}

    std::string_view key;
    boost::json::value value;
};

// "msg":"…","key":value,… (no braces).
std::string Fields(std::string_view msg, std::initializer_list<Field> fields);
void Info(std::string_view msg, std::initializer_list<Field> fields = {});
void Warn(std::string_view msg, std::initializer_list<Field> fields = {});
void Error(std::string_view msg, std::initializer_list<Field> fields = {});
// Sets up the JSON line format on stdout (async, so logging never waits on the terminal).
void Configure(std::string_view level);
void Flush();

}  // namespace tb::log
