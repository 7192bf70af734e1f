// The JSON text of summary files: escaped strings, null for non-finite
// numbers, nested objects and lists indented, keys in insertion order; read
// back by read_json, whose errors name the line.
#include <gtest/gtest.h>

#include <limits>

#include "core/error.hpp"
#include "io/json_text.hpp"

namespace sinapsis {
namespace {

using nlohmann::ordered_json;

TEST(JsonText, EscapesStringsAndWritesNullForNonFiniteNumbers) {
  const ordered_json o = {{"text", "a \"quoted\"\\path\nline\x01"},
                          {"nan", std::numeric_limits<double>::quiet_NaN()},
                          {"inf", std::numeric_limits<double>::infinity()},
                          {"x", 0.25},
                          {"n", std::size_t(3)},
                          {"yes", true}};
  EXPECT_EQ(json_text(o),
            "{\n  \"text\": \"a \\\"quoted\\\"\\\\path\\nline\\u0001\",\n  \"nan\": null,\n  \"inf\": null,\n"
            "  \"x\": 0.25,\n  \"n\": 3,\n  \"yes\": true\n}");
}

TEST(JsonText, NestsObjectsAndLists) {
  const ordered_json inner = {{"a", 1}};
  const ordered_json o = {{"inner", inner},
                          {"hosts", std::vector<std::string>{"n1", "n2"}},
                          {"empty", ordered_json::object()},
                          {"rows", {inner, inner}}};
  EXPECT_EQ(json_text(o),
            "{\n  \"inner\": {\n    \"a\": 1\n  },\n  \"hosts\": [\"n1\", \"n2\"],\n  \"empty\": {},\n"
            "  \"rows\": [\n  {\n    \"a\": 1\n  },\n  {\n    \"a\": 1\n  }\n  ]\n}");
}

// Floating numbers as a stream writes them with precision 10, also when
// whole (a double stays a double); integers in full; bytes that are not
// UTF-8 (a path's) passed through.
TEST(JsonText, WritesNumbersAndBytesAsTheFilesAlwaysHad) {
  const ordered_json o = {{"lr", 0.05},         {"bucket_mb", 0.0},         {"tiny", 1e-05},
                          {"long", 0.1234567891234}, {"big", 1234567890123.0}, {"count", std::uint64_t(1) << 63},
                          {"negative", -7},     {"path", "/data/caf\xe9"},   {"none", ordered_json::array()}};
  EXPECT_EQ(json_text(o),
            "{\n  \"lr\": 0.05,\n  \"bucket_mb\": 0,\n  \"tiny\": 1e-05,\n  \"long\": 0.1234567891,\n"
            "  \"big\": 1.23456789e+12,\n  \"count\": 9223372036854775808,\n  \"negative\": -7,\n"
            "  \"path\": \"/data/caf\xe9\",\n  \"none\": []\n}");
}

TEST(ReadJson, ReadsBackWhatJsonTextWrites) {
  const ordered_json inner = {{"epoch", std::size_t(12)}, {"monitor", "val_loss"}, {"value", 0.125}};
  const ordered_json o = {{"text", "a \"quoted\"\\path\nline\x01"},
                          {"nan", std::numeric_limits<double>::quiet_NaN()},
                          {"best", inner},
                          {"hosts", std::vector<std::string>{"n1", "n2"}},
                          {"rows", {inner, ordered_json::object()}},
                          {"yes", true},
                          {"negative", -2.5e-3}};
  const JsonDocument document = read_json(json_text(o) + "\n", "summary.json");
  const ordered_json& v = document.value();
  ASSERT_TRUE(v.is_object());
  ASSERT_EQ(v.size(), 7u);
  EXPECT_EQ(v.at("text"), "a \"quoted\"\\path\nline\x01");
  EXPECT_TRUE(v.at("nan").is_null());
  ASSERT_TRUE(v.contains("best"));
  const ordered_json& best = v.at("best");
  EXPECT_EQ(document.line(best), 4u) << "the line where the value starts";
  EXPECT_EQ(best.at("epoch"), 12);
  EXPECT_EQ(document.line(best.at("epoch")), 5u);
  EXPECT_EQ(best.at("monitor"), "val_loss");
  EXPECT_EQ(best.at("value"), 0.125);
  ASSERT_EQ(v.at("hosts").size(), 2u);
  EXPECT_EQ(v.at("hosts").at(1), "n2");
  ASSERT_EQ(v.at("rows").size(), 2u);
  EXPECT_TRUE(v.at("rows").at(1).is_object());
  EXPECT_EQ(document.line(v.at("rows").at(1)), 16u);
  EXPECT_EQ(v.at("yes"), true);
  EXPECT_EQ(v.at("negative"), -2.5e-3);
  EXPECT_FALSE(v.contains("absent"));
}

TEST(ReadJson, DecodesUnicodeEscapesToUtf8) {
  const JsonDocument document = read_json(R"(["\u00e9\u20ac\ud83d\ude00\/"])", "x");
  ASSERT_EQ(document.value().size(), 1u);
  EXPECT_EQ(document.value().at(0), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/");
}

// A summary's path need not be UTF-8 (json_text writes its bytes): the
// reader takes the document, such bytes read as U+FFFD, the rest intact.
TEST(ReadJson, ReadsStringsThatAreNotUtf8) {
  const ordered_json o = {{"run_dir", "run\xe9/x\xff"}, {"best", {{"epoch", 3}}}, {"ok", "\xc3\xa9"}};
  const JsonDocument document = read_json(json_text(o) + "\n", "summary.json");
  EXPECT_EQ(document.value().at("run_dir"), "run\xef\xbf\xbd/x\xef\xbf\xbd");
  EXPECT_EQ(document.value().at("best").at("epoch"), 3);
  EXPECT_EQ(document.line(document.value().at("best")), 3u);
  EXPECT_EQ(document.value().at("ok"), "\xc3\xa9");
  // A stray byte outside a string is still a syntax error, on its line.
  EXPECT_THROW(read_json("{\n\"a\": 1,\n\xe9\n}", "x"), DataError);
}

// Each malformed document is refused with "SOURCE line N: " and what is
// wrong (in nlohmann's words, but for the duplicate key and the depth).
TEST(ReadJson, RefusesMalformedDocumentsNamingTheLine) {
  const struct {
    std::string text, line, what;
  } cases[] = {
      {"{\n  \"a\": 1,\n  \"b\": [1, 2", "line 3", "cut short"},
      {"{\n  \"a\": 1\n  \"b\": 2\n}", "line 3", "unexpected string literal; expected '}'"},
      {"{\"a\": 1}\n}", "line 2", "unexpected '}'; expected end of input"},
      {"", "line 1", "cut short"},
      {"{\"a\": tru}", "line 1", "invalid literal"},
      {"{\"a\": 01}", "line 1", "unexpected number literal; expected '}'"},
      {"{\"a\": 1.}", "line 1", "expected digit after '.'"},
      {"{\"a\": 1e400}", "line 1", "number overflow"},
      {"{\"a\": NaN}", "line 1", "invalid literal"},
      {"{\"a\": \"x\\q\"}", "line 1", "forbidden character after backslash"},
      {"{\"a\": \"\\ud83d\"}", "line 1", "must be followed by U+DC00..U+DFFF"},
      {"{\"a\": \"\\u12\"}", "line 1", "must be followed by 4 hex digits"},
      {"{\"a\": \"line\nbreak\"}", "line 1", "control character"},
      {"{\"a\": 1, \"a\": 2}", "line 1", "\"a\" appears twice in one object"},
      {"{a: 1}", "line 1", "expected string literal"},
      {std::string(65, '[') + std::string(65, ']'), "line 1", "nested more than 64 levels deep"},
      {"{\n  \"a\": {\n    \"b\": 1,\n    \"b\": 2\n  }\n}", "line 4", "\"b\" appears twice"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    try {
      read_json(c.text, "run/summary.json");
      ADD_FAILURE() << "accepted";
    } catch (const DataError& e) {
      const std::string message = e.what();
      EXPECT_EQ(message.rfind("run/summary.json " + c.line + ": ", 0), 0u) << message;
      EXPECT_NE(message.find(c.what), std::string::npos) << message;
      EXPECT_EQ(message.find("json.exception"), std::string::npos) << "nlohmann's own prefix: " << message;
    }
  }
  EXPECT_NO_THROW(read_json(std::string(64, '[') + std::string(64, ']'), "x"));
  EXPECT_NO_THROW(read_json("[{\"a\": 1}, {\"a\": 2}]", "x")) << "a key may repeat in another object";
}

}  // namespace
}  // namespace sinapsis
