#include "query/doc_regex.h"

#include <re2/re2.h>

#include "common/strings.h"

namespace tb::query {

namespace {

constexpr size_t kMaxPattern = 512;
constexpr int kMaxRepeat = 100;
constexpr int kMaxProgram = 2000;  // RE2 instructions

Error Refuse(std::string why) { return Error::BadRequest("$regex: " + std::move(why)); }

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char OtherCase(char c) { return static_cast<char>(c ^ 0x20); }

// Class members for \d \w \s, inside brackets, escaped as Member escapes a class's
// punctuation, so that a canonical pattern canonicalises to itself.
const char* ClassBody(char e) {
    switch (e) {
        case 'd':
            return "0-9";
        case 'w':
            return "0-9A-Za-z\\_";
        case 's':
            return "\\t\\n\\f\\r ";
        default:
            return nullptr;
    }
}

class Canonicaliser {
  public:
    explicit Canonicaliser(std::string_view p) : p_(p) {}

    Result<std::string> Run() {
        if (p_.starts_with("(?i)")) {
            fold_ = true;
            i_ = 4;
        }
        TB_RETURN_IF_ERROR(Alternation(0));
        if (i_ != p_.size()) return Refuse("unbalanced )");
        return std::move(out_);
    }

  private:
    bool AtEnd() const { return i_ >= p_.size(); }
    char Peek() const { return p_[i_]; }

    Status Alternation(int depth) {
        if (depth > 16) return Refuse("groups nested too deep");
        for (;;) {
            TB_RETURN_IF_ERROR(Sequence(depth));
            if (AtEnd() || Peek() != '|') return {};
            out_ += '|';
            ++i_;
        }
    }

    Status Sequence(int depth) {
        while (!AtEnd() && Peek() != '|' && Peek() != ')') {
            bool quantifiable = true;
            char c = Peek();
            if (c == '(') {
                ++i_;
                if (p_.substr(i_).starts_with("?:")) {
                    i_ += 2;
                } else if (!AtEnd() && Peek() == '?') {
                    return Refuse("only (?: ) groups and a leading (?i) are supported");
                }
                out_ += "(?:";
                TB_RETURN_IF_ERROR(Alternation(depth + 1));
                if (AtEnd() || Peek() != ')') return Refuse("missing )");
                ++i_;
                out_ += ')';
            } else if (c == '[') {
                TB_RETURN_IF_ERROR(Bracket());
            } else if (c == '\\') {
                TB_RETURN_IF_ERROR(Escape());
            } else if (c == '.') {
                ++i_;
                out_ += "[^\\n]";
            } else if (c == '^' || c == '$') {
                ++i_;
                out_ += c;
                quantifiable = false;
            } else if (c == '*' || c == '+' || c == '?' || c == '{') {
                return Refuse("a quantifier needs something to repeat");
            } else {
                Literal();
            }
            if (quantifiable) {
                TB_RETURN_IF_ERROR(Quantifier());
            } else if (!AtEnd() &&
                       (Peek() == '*' || Peek() == '+' || Peek() == '?' || Peek() == '{')) {
                return Refuse("an anchor cannot be repeated");
            }
        }
        return {};
    }

    // One literal character (a whole UTF-8 sequence), escaped when it is punctuation.
    void Literal() {
        unsigned char c = static_cast<unsigned char>(Peek());
        size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        std::string_view ch = p_.substr(i_, len);
        i_ += ch.size();
        if (len == 1 && fold_ && IsAsciiLetter(ch[0])) {
            out_ += '[';
            out_ += ch[0];
            out_ += OtherCase(ch[0]);
            out_ += ']';
        } else if (len == 1 && std::ispunct(c) && c != '_') {
            // Punctuation only: `\` before a space or a control character is no escape the
            // parser takes back (regex_fuzz), and both engines read those as themselves.
            out_ += '\\';
            out_ += ch[0];
        } else {
            out_ += ch;
        }
    }

    Status Escape() {
        if (i_ + 1 >= p_.size()) return Refuse("a trailing backslash");
        char e = p_[i_ + 1];
        i_ += 2;
        if (const char* body = ClassBody(e)) {
            out_ += '[';
            out_ += body;
            out_ += ']';
        } else if (e == 'D' || e == 'W' || e == 'S') {
            out_ += "[^";
            out_ += ClassBody(static_cast<char>(e + 0x20));
            out_ += ']';
        } else if (e == 'n' || e == 't' || e == 'r' || e == 'f' ||
                   std::ispunct(static_cast<unsigned char>(e))) {
            out_ += '\\';  // a control escape, or punctuation taken literally
            out_ += e;
        } else {
            return Refuse(std::string("unsupported escape \\") + e);
        }
        return {};
    }

    // One member of a bracket class as canonical text; `ch` receives a single ASCII character
    // (for ranges), 0 for a class or a multi-byte character.
    Status Member(std::string& text, char& ch) {
        ch = 0;
        char c = Peek();
        if (c == '\\') {
            if (i_ + 1 >= p_.size()) return Refuse("a trailing backslash");
            char e = p_[i_ + 1];
            i_ += 2;
            if (const char* body = ClassBody(e)) {
                text = body;
            } else if (e == 'n' || e == 't' || e == 'r' || e == 'f') {
                text = std::string("\\") + e;
                ch = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : '\f';
            } else if (std::ispunct(static_cast<unsigned char>(e))) {
                text = std::string("\\") + e;
                ch = e;
            } else {
                return Refuse(std::string("unsupported escape \\") + e + " in a class");
            }
            return {};
        }
        if (c == '[' && p_.substr(i_).starts_with("[:")) return Refuse("POSIX classes");
        unsigned char u = static_cast<unsigned char>(c);
        size_t len = u < 0x80 ? 1 : u >= 0xF0 ? 4 : u >= 0xE0 ? 3 : 2;
        text = std::string(p_.substr(i_, len));
        i_ += text.size();
        if (len == 1) {
            ch = c;
            // Punctuation escaped; a space or a control character stays as it is (`\ ` is no
            // escape the parser takes back).
            if (std::ispunct(u)) text = std::string("\\") + c;
        }
        return {};
    }

    Status Bracket() {
        ++i_;  // [
        std::string body;
        bool negated = !AtEnd() && Peek() == '^';
        if (negated) ++i_;
        bool first = true;
        while (!AtEnd() && (Peek() != ']' || first)) {
            first = false;
            std::string text;
            char lo = 0;
            TB_RETURN_IF_ERROR(Member(text, lo));
            if (!AtEnd() && Peek() == '-' && i_ + 1 < p_.size() && p_[i_ + 1] != ']') {
                ++i_;
                std::string hi_text;
                char hi = 0;
                TB_RETURN_IF_ERROR(Member(hi_text, hi));
                if (!lo || !hi || hi < lo) return Refuse("a class range needs ASCII ends in order");
                body += text;
                body += '-';
                body += hi_text;
                if (fold_) FoldRange(lo, hi, body);
                continue;
            }
            body += text;
            if (fold_ && lo && IsAsciiLetter(lo)) body += OtherCase(lo);
        }
        if (AtEnd()) return Refuse("missing ]");
        ++i_;  // ]
        out_ += negated ? "[^" : "[";
        out_ += body;
        out_ += ']';
        return {};
    }

    // Under (?i), the other case of the letters within [lo, hi].
    static void FoldRange(char lo, char hi, std::string& body) {
        for (auto [a, z] : {std::pair{'a', 'z'}, std::pair{'A', 'Z'}}) {
            char from = std::max(lo, a), to = std::min(hi, z);
            if (from > to) continue;
            body += OtherCase(from);
            body += '-';
            body += OtherCase(to);
        }
    }

    Status Quantifier() {
        if (AtEnd()) return {};
        char c = Peek();
        if (c == '*' || c == '+' || c == '?') {
            out_ += c;
            ++i_;
        } else if (c == '{') {
            size_t close = p_.find('}', i_);
            if (close == std::string_view::npos) return Refuse("missing }");
            std::string_view inner = p_.substr(i_ + 1, close - i_ - 1);
            size_t comma = inner.find(',');
            auto number = [](std::string_view s) -> int {
                if (s.empty() || s.size() > 3) return -1;
                int n = 0;
                for (char d : s) {
                    if (d < '0' || d > '9') return -1;
                    n = n * 10 + (d - '0');
                }
                return n;
            };
            int lo = number(inner.substr(0, comma));
            int hi = comma == std::string_view::npos ? lo
                     : comma + 1 == inner.size()     ? kMaxRepeat
                                                     : number(inner.substr(comma + 1));
            if (lo < 0 || hi < 0 || lo > kMaxRepeat || hi > kMaxRepeat || hi < lo)
                return Refuse("a repeat {n,m} needs 0 ≤ n ≤ m ≤ 100");
            out_ += p_.substr(i_, close - i_ + 1);
            i_ = close + 1;
        } else {
            return {};
        }
        if (!AtEnd() && Peek() == '?') {  // lazy: the same set of matches
            out_ += '?';
            ++i_;
        }
        if (!AtEnd() && (Peek() == '*' || Peek() == '+' || Peek() == '{' || Peek() == '?'))
            return Refuse("a quantifier cannot follow a quantifier");
        return {};
    }

    std::string_view p_;
    size_t i_ = 0;
    bool fold_ = false;
    std::string out_;
};

}  // namespace

Result<std::string> CanonicalRegex(std::string_view pattern) {
    if (pattern.size() > kMaxPattern)
        return Refuse("a pattern has at most " + std::to_string(kMaxPattern) + " bytes");
    if (!IsValidUtf8(pattern) || pattern.find('\0') != std::string_view::npos)
        return Refuse("a pattern is UTF-8 text without NUL");
    // RE2 first: whatever it refuses (backreferences, lookaround, bad syntax) is refused.
    RE2 check(pattern, RE2::Quiet);
    if (!check.ok()) return Refuse(check.error());
    Canonicaliser c(pattern);
    TB_ASSIGN_OR_RETURN(std::string out, c.Run());
    RE2 canonical(out, RE2::Quiet);
    if (!canonical.ok()) return Refuse(canonical.error());
    // Bounds the work of compiling it (and PostgreSQL's, which refuses large automata).
    if (canonical.ProgramSize() > kMaxProgram) return Refuse("the pattern is too complex");
    return out;
}

}  // namespace tb::query
