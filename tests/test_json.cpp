// The JSON of summary files: escaped strings, null for non-finite numbers,
// nested objects and lists indented, keys in insertion order; read back by
// read_json, whose errors name the line.
#include <gtest/gtest.h>

#include <limits>

#include "core/error.hpp"
#include "io/json.hpp"

namespace sinapsis {
namespace {

TEST(JsonObject, EscapesStringsAndWritesNullForNonFiniteNumbers) {
  JsonObject o;
  o.add("text", std::string("a \"quoted\"\\path\nline\x01"))
      .add("nan", std::numeric_limits<double>::quiet_NaN())
      .add("inf", std::numeric_limits<double>::infinity())
      .add("x", 0.25)
      .add("n", std::size_t(3))
      .add("yes", true);
  EXPECT_EQ(o.text(),
            "{\n  \"text\": \"a \\\"quoted\\\"\\\\path\\nline\\u0001\",\n  \"nan\": null,\n  \"inf\": null,\n"
            "  \"x\": 0.25,\n  \"n\": 3,\n  \"yes\": true\n}");
}

TEST(JsonObject, NestsObjectsAndLists) {
  JsonObject inner;
  inner.add("a", 1);
  JsonObject o;
  o.add("inner", inner).add("hosts", std::vector<std::string>{"n1", "n2"}).add("empty", JsonObject());
  o.add("rows", std::vector<JsonObject>{inner, inner});
  EXPECT_EQ(o.text(),
            "{\n  \"inner\": {\n    \"a\": 1\n  },\n  \"hosts\": [\"n1\", \"n2\"],\n  \"empty\": {},\n"
            "  \"rows\": [\n  {\n    \"a\": 1\n  },\n  {\n    \"a\": 1\n  }\n  ]\n}");
}

TEST(ReadJson, ReadsBackWhatJsonObjectWrites) {
  JsonObject inner;
  inner.add("epoch", std::size_t(12)).add("monitor", "val_loss").add("value", 0.125);
  JsonObject o;
  o.add("text", std::string("a \"quoted\"\\path\nline\x01"))
      .add("nan", std::numeric_limits<double>::quiet_NaN())
      .add("best", inner)
      .add("hosts", std::vector<std::string>{"n1", "n2"})
      .add("rows", std::vector<JsonObject>{inner, JsonObject()})
      .add("yes", true)
      .add("negative", -2.5e-3);
  const JsonValue v = read_json(o.text() + "\n", "summary.json");
  ASSERT_EQ(v.type, JsonValue::Type::object);
  ASSERT_EQ(v.members.size(), 7u);
  EXPECT_EQ(v.find("text")->text, "a \"quoted\"\\path\nline\x01");
  EXPECT_EQ(v.find("nan")->type, JsonValue::Type::null);
  const JsonValue* best = v.find("best");
  ASSERT_NE(best, nullptr);
  EXPECT_EQ(best->line, 4u) << "the line where the value starts";
  EXPECT_EQ(best->find("epoch")->number, 12);
  EXPECT_EQ(best->find("epoch")->line, 5u);
  EXPECT_EQ(best->find("monitor")->text, "val_loss");
  EXPECT_EQ(best->find("value")->number, 0.125);
  ASSERT_EQ(v.find("hosts")->items.size(), 2u);
  EXPECT_EQ(v.find("hosts")->items[1].text, "n2");
  ASSERT_EQ(v.find("rows")->items.size(), 2u);
  EXPECT_EQ(v.find("rows")->items[1].type, JsonValue::Type::object);
  EXPECT_TRUE(v.find("yes")->boolean);
  EXPECT_EQ(v.find("negative")->number, -2.5e-3);
  EXPECT_EQ(v.find("absent"), nullptr);
}

TEST(ReadJson, DecodesUnicodeEscapesToUtf8) {
  const JsonValue v = read_json(R"(["\u00e9\u20ac\ud83d\ude00\/"])", "x");
  ASSERT_EQ(v.items.size(), 1u);
  EXPECT_EQ(v.items[0].text, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/");
}

// Each malformed document is refused with "SOURCE line N: " and what is wrong.
TEST(ReadJson, RefusesMalformedDocumentsNamingTheLine) {
  const struct {
    std::string text, line, what;
  } cases[] = {
      {"{\n  \"a\": 1,\n  \"b\": [1, 2", "line 3", "cut short"},
      {"{\n  \"a\": 1\n  \"b\": 2\n}", "line 3", "expected ',' or '}'"},
      {"{\"a\": 1}\n}", "line 2", "after the JSON value"},
      {"", "line 1", "cut short"},
      {"{\"a\": tru}", "line 1", "expected a value"},
      {"{\"a\": 01}", "line 1", "expected ',' or '}'"},
      {"{\"a\": 1.}", "line 1", "a digit after '.'"},
      {"{\"a\": 1e400}", "line 1", "out of range"},
      {"{\"a\": NaN}", "line 1", "expected a value"},
      {"{\"a\": \"x\\q\"}", "line 1", "unknown escape"},
      {"{\"a\": \"\\ud83d\"}", "line 1", "without its low half"},
      {"{\"a\": \"\\u12\"}", "line 1", "four hex digits"},
      {"{\"a\": \"line\nbreak\"}", "line 1", "control character"},
      {"{\"a\": 1, \"a\": 2}", "line 1", "appears twice"},
      {"{a: 1}", "line 1", "member name in quotes"},
      {std::string(65, '[') + std::string(65, ']'), "line 1", "nested more than 64"},
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
    }
  }
  EXPECT_NO_THROW(read_json(std::string(64, '[') + std::string(64, ']'), "x"));
}

}  // namespace
}  // namespace sinapsis
