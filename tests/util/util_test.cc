#include <gtest/gtest.h>

#include "storage/db.h"
#include "util/coding.h"
#include "util/crypto.h"
#include "util/json_writer.h"
#include "util/strings.h"
#include "util/text.h"

namespace recd::util {
namespace {

TEST(IsValidId, AcceptsUtf8AndRejectsControlCharacters) {
  EXPECT_TRUE(IsValidId("sku-9"));
  EXPECT_TRUE(IsValidId("caf\xc3\xa9"));          // é
  EXPECT_TRUE(IsValidId("\xf0\x9f\x98\x80"));      // emoji
  EXPECT_FALSE(IsValidId(std::string("a\0b", 3)));
  EXPECT_FALSE(IsValidId("tab\there"));
  EXPECT_FALSE(IsValidId("\x7f"));
  EXPECT_FALSE(IsValidId("\xc2\x85"));             // U+0085 (C1 control)
  EXPECT_FALSE(IsValidId("\xc3"));                 // truncated sequence
  EXPECT_FALSE(IsValidId("\xc0\xaf"));             // overlong '/'
  EXPECT_FALSE(IsValidId("\xed\xa0\x80"));         // surrogate
  EXPECT_FALSE(IsValidId("\xf4\x90\x80\x80"));     // above U+10FFFF
}

TEST(Dates, IsoDatesRoundTripAndRejectImpossibleDays) {
  auto d = ParseIsoDate("2026-11-01");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(FormatIsoDate(*d), "2026-11-01");
  EXPECT_EQ(*ParseIsoDate("1970-01-01"), 0);
  EXPECT_FALSE(ParseIsoDate("2026-02-30").has_value());
  EXPECT_FALSE(ParseIsoDate("2026-13-01").has_value());
  EXPECT_FALSE(ParseIsoDate("2026-1-01").has_value());
  EXPECT_FALSE(ParseIsoDate("+026-11-01").has_value());
  EXPECT_EQ(FormatIsoTimestamp(1763884800123), "2025-11-23T08:00:00.123Z");
  EXPECT_EQ(DayOfUnixMs(-1), -1);
  EXPECT_EQ(DayOfUnixMs(86'400'000), 1);
}

TEST(JsonWriter, EscapesControlCharactersAndQuotes) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("a\"b").String(std::string("x\n\x01y", 4)).Key("n").Int(-3).Key("l");
  w.BeginArray().Double(0.5).Bool(true).Null().EndArray().EndObject();
  EXPECT_EQ(out, R"({"a\"b":"x\n\u0001y","n":-3,"l":[0.5,true,null]})");
}

// JSON text is UTF-8: well-formed sequences pass unchanged, any other byte becomes U+FFFD.
TEST(JsonWriter, ReplacesBytesThatAreNotUtf8) {
  std::string out;
  AppendJsonString(&out, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\x85");
  EXPECT_EQ(out, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\x85\"");
  out.clear();
  // A lone 0xff, an overlong '/', a surrogate, a cut sequence at the end.
  AppendJsonString(&out, "a\xff b\xc0\xaf c\xed\xa0\x80 d\xe2\x82");
  EXPECT_EQ(out, R"("a\ufffd b\ufffd\ufffd c\ufffd\ufffd\ufffd d\ufffd\ufffd")");
}

TEST(Coding, BigEndianKeysSortNumerically) {
  std::string a, b;
  PutFixed64BE(&a, 255);
  PutFixed64BE(&b, 256);
  EXPECT_LT(a, b);
  EXPECT_EQ(DecodeFixed64BE(b.data()), 256u);
  std::string v;
  PutVarint64(&v, 300);
  PutLengthPrefixed(&v, "hey");
  std::string_view in(v);
  uint64_t x = 0;
  std::string_view s;
  ASSERT_TRUE(GetVarint64(&in, &x));
  ASSERT_TRUE(GetLengthPrefixed(&in, &s));
  EXPECT_EQ(x, 300u);
  EXPECT_EQ(s, "hey");
  EXPECT_TRUE(in.empty());
}

TEST(Coding, PrefixSuccessorBoundsEveryKeyWithThePrefix) {
  EXPECT_EQ(storage::PrefixSuccessor(std::string("\x00\x01", 2)), std::string("\x00\x02", 2));
  EXPECT_EQ(storage::PrefixSuccessor("a\xff"), "b");
  EXPECT_EQ(storage::PrefixSuccessor("\xff\xff"), "");
}

TEST(Crypto, RandomStringsUseOnlyTheAlphabet) {
  std::string s = RandomString(1000, kBase32Lower);
  EXPECT_EQ(s.size(), 1000u);
  EXPECT_EQ(s.find_first_not_of(kBase32Lower), std::string::npos);
  EXPECT_NE(RandomString(32, kBase62), RandomString(32, kBase62));
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

TEST(Strings, ParseIntRejectsTrailingBytesAndOverflow) {
  int64_t v = 0;
  EXPECT_TRUE(ParseInt("42", &v));
  EXPECT_EQ(v, 42);
  EXPECT_FALSE(ParseInt("42x", &v));
  EXPECT_FALSE(ParseInt("", &v));
  EXPECT_FALSE(ParseInt(" 1", &v));
  EXPECT_FALSE(ParseInt("99999999999999999999", &v));
  EXPECT_EQ(StrCat("a", 1, std::string_view("b"), 2.5), "a1b2.5");
}

}  // namespace
}  // namespace recd::util
