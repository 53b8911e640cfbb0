#include "query/doc_match.h"

#include <re2/re2.h>

#include <charconv>
#include <cmath>
#include <vector>

namespace tb::query {

namespace {

// A JSON number as the stores read one: integers within int64 exactly, anything else
// (fractions, exponents, integers past int64) as a double.
using Number = std::variant<int64_t, double>;

std::optional<Number> NumberOf(const json::value* v) {
    if (v == nullptr) return std::nullopt;
    if (v->is_int64()) return Number{v->get_int64()};
    if (v->is_uint64()) return Number{static_cast<double>(v->get_uint64())};
    if (v->is_double()) return Number{v->get_double()};
    return std::nullopt;
}

std::optional<Number> NumberOf(const Scalar& s) {
    if (const auto* i = std::get_if<int64_t>(&s)) return Number{*i};
    if (const auto* d = std::get_if<double>(&s)) return Number{*d};
    return std::nullopt;
}

int Sign(auto a, auto b) { return a < b ? -1 : (b < a ? 1 : 0); }

// An integer against a double, exactly (as SQLite and PostgreSQL's numeric compare them):
// converting the integer to a double would call 2^53 + 1 equal to 2^53.
int CompareIntDouble(int64_t i, double d) {
    if (d >= 9223372036854775808.0) return -1;
    if (d < -9223372036854775808.0) return 1;
    const auto whole = static_cast<int64_t>(d);  // toward zero; exact, as d is in range
    if (i != whole) return Sign(i, whole);
    // The fraction of a double is itself exact.
    return Sign(0.0, d - static_cast<double>(whole));
}

int CompareNumbers(const Number& a, const Number& b) {
    if (const auto* ai = std::get_if<int64_t>(&a)) {
        if (const auto* bi = std::get_if<int64_t>(&b)) return Sign(*ai, *bi);
        return CompareIntDouble(*ai, std::get<double>(b));
    }
    const double ad = std::get<double>(a);
    if (const auto* bi = std::get_if<int64_t>(&b)) return -CompareIntDouble(*bi, ad);
    return Sign(ad, std::get<double>(b));
}

// Byte order of UTF-8 text is code point order (the stores compare with a binary collation).
int CompareText(std::string_view a, std::string_view b) {
    int c = a.compare(b);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

std::string FoldAscii(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

bool ContainsFolded(std::string_view text, std::string_view folded_needle) {
    return FoldAscii(text).find(folded_needle) != std::string::npos;
}

bool AnyTextContains(const json::value& v, std::string_view folded_needle) {
    if (v.is_string()) return ContainsFolded(v.get_string(), folded_needle);
    if (v.is_array()) {
        for (const auto& item : v.get_array())
            if (AnyTextContains(item, folded_needle)) return true;
    } else if (v.is_object()) {
        for (const auto& kv : v.get_object())
            if (AnyTextContains(kv.value(), folded_needle)) return true;
    }
    return false;
}

void CollectPatterns(const DocFilter& f,
                     std::unordered_map<std::string, std::unique_ptr<re2::RE2>>& out) {
    if (f.kind == DocFilter::Kind::kLeaf && f.op == DocOp::kRegex && !f.operands.empty()) {
        if (const auto* p = std::get_if<std::string>(&f.operands.front()); p && !out.contains(*p))
            out.emplace(*p, std::make_unique<re2::RE2>(*p, re2::RE2::Quiet));
    }
    for (const auto& child : f.children) CollectPatterns(child, out);
}

class Evaluator {
  public:
    Evaluator(const json::object& body,
              const std::unordered_map<std::string, std::unique_ptr<re2::RE2>>& patterns)
        : body_(body), patterns_(patterns) {}

    bool Node(const DocFilter& f) {
        switch (f.kind) {
            case DocFilter::Kind::kAnd:
                for (const auto& c : f.children)
                    if (!Node(c)) return false;
                return true;
            case DocFilter::Kind::kOr:
                for (const auto& c : f.children)
                    if (Node(c)) return true;
                return false;
            case DocFilter::Kind::kNot:
                return !Node(f.children.front());
            case DocFilter::Kind::kLeaf:
                return Leaf(f);
        }
        return false;
    }

  private:
    // The value at a path, or nullptr when missing. Only objects are walked into: segments
    // are names, never array positions.
    const json::value* Resolve(const std::vector<std::string>& path) const {
        size_t i = 0;
        const json::value* at = nullptr;
        if (!path.empty() && path.front().starts_with('#')) {
            size_t level = 0;
            std::from_chars(path.front().data() + 1, path.front().data() + path.front().size(),
                            level);
            if (level == 0 || level > elements_.size()) return nullptr;
            at = elements_[level - 1];
            i = 1;
        } else {
            if (path.empty()) return nullptr;
            at = body_.if_contains(path.front());
            i = 1;
        }
        for (; at != nullptr && i < path.size(); ++i) {
            if (!at->is_object()) return nullptr;
            at = at->get_object().if_contains(path[i]);
        }
        return at;
    }

    static bool Equals(const json::value* v, const Scalar& s) {
        if (std::holds_alternative<std::monostate>(s)) return v == nullptr || v->is_null();
        if (v == nullptr) return false;
        if (const auto* b = std::get_if<bool>(&s)) return v->is_bool() && v->get_bool() == *b;
        if (const auto* t = std::get_if<std::string>(&s))
            return v->is_string() && std::string_view(v->get_string()) == *t;
        auto n = NumberOf(v);
        return n && CompareNumbers(*n, *NumberOf(s)) == 0;
    }

    // The order of the value against the operand within one JSON type; nullopt when the value
    // is of another type (or missing), which no ordering matches.
    static std::optional<int> Order(const json::value* v, const Scalar& s) {
        if (v == nullptr) return std::nullopt;
        if (const auto* b = std::get_if<bool>(&s)) {
            if (!v->is_bool()) return std::nullopt;
            return Sign(v->get_bool(), *b);
        }
        if (const auto* t = std::get_if<std::string>(&s)) {
            if (!v->is_string()) return std::nullopt;
            return CompareText(v->get_string(), *t);
        }
        auto n = NumberOf(v);
        auto operand = NumberOf(s);
        if (!n || !operand) return std::nullopt;
        return CompareNumbers(*n, *operand);
    }

    static std::optional<std::string_view> Text(const json::value* v) {
        if (v == nullptr || !v->is_string()) return std::nullopt;
        return std::string_view(v->get_string());
    }

    bool Leaf(const DocFilter& f) {
        const json::value* v = f.op == DocOp::kAnyTextContains ? nullptr : Resolve(f.path);
        static const Scalar kNull;
        const Scalar& operand = f.operands.empty() ? kNull : f.operands.front();
        auto ordered = [&](auto holds) {
            auto o = Order(v, operand);
            return o && holds(*o);
        };
        switch (f.op) {
            case DocOp::kEq:
                return Equals(v, operand);
            case DocOp::kNe:
                return !Equals(v, operand);
            case DocOp::kGt:
                return ordered([](int o) { return o > 0; });
            case DocOp::kGte:
                return ordered([](int o) { return o >= 0; });
            case DocOp::kLt:
                return ordered([](int o) { return o < 0; });
            case DocOp::kLte:
                return ordered([](int o) { return o <= 0; });
            case DocOp::kIn:
            case DocOp::kNin: {
                bool any = false;
                for (const auto& s : f.operands) any = any || Equals(v, s);
                return f.op == DocOp::kIn ? any : !any;
            }
            case DocOp::kExists:
                return std::get<bool>(operand) == (v != nullptr);
            case DocOp::kContains: {
                const auto text = Text(v);
                return text && ContainsFolded(*text, FoldAscii(std::get<std::string>(operand)));
            }
            case DocOp::kStartsWith: {
                const auto text = Text(v);
                return text && text->starts_with(std::get<std::string>(operand));
            }
            case DocOp::kRegex: {
                const auto text = Text(v);
                auto re = patterns_.find(std::get<std::string>(operand));
                return text && re != patterns_.end() && re->second->ok() &&
                       re2::RE2::PartialMatch(re2::StringPiece(text->data(), text->size()),
                                              *re->second);
            }
            case DocOp::kSize:
                return v != nullptr && v->is_array() &&
                       static_cast<int64_t>(v->get_array().size()) == std::get<int64_t>(operand);
            case DocOp::kElemMatch: {
                if (v == nullptr || !v->is_array()) return false;
                for (const auto& element : v->get_array()) {
                    elements_.push_back(&element);
                    bool match = Node(f.children.front());
                    elements_.pop_back();
                    if (match) return true;
                }
                return false;
            }
            case DocOp::kAnyTextContains: {
                // The system fields (top-level names starting with '_', all scalars) are not
                // searched; as in the SQL, a container under such a name would be.
                const std::string needle = FoldAscii(std::get<std::string>(operand));
                for (const auto& kv : body_) {
                    if (kv.key().starts_with('_') && kv.value().is_string()) continue;
                    if (AnyTextContains(kv.value(), needle)) return true;
                }
                return false;
            }
        }
        return false;
    }

    const json::object& body_;
    const std::unordered_map<std::string, std::unique_ptr<re2::RE2>>& patterns_;
    std::vector<const json::value*> elements_;  // the enclosing $elemMatch elements
};

}  // namespace

DocMatcher::DocMatcher(DocFilter filter) : filter_(std::move(filter)) {
    CollectPatterns(filter_, patterns_);
}
DocMatcher::~DocMatcher() = default;
DocMatcher::DocMatcher(DocMatcher&&) noexcept = default;
DocMatcher& DocMatcher::operator=(DocMatcher&&) noexcept = default;

bool DocMatcher::Matches(const json::object& body) const {
    Evaluator e(body, patterns_);
    return e.Node(filter_);
}

}  // namespace tb::query
