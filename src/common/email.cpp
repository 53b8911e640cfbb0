#include "common/email.h"

#include "common/strings.h"

namespace tb {

Result<std::string> NormalizeEmail(std::string_view raw, std::string_view field) {
    std::string email = ToLower(Trim(raw));
    auto invalid = [&] { return Error::Validation(std::string(field), "Invalid email format"); };
    if (email.empty() || email.size() > 254) return invalid();
    size_t at = email.find('@');
    if (at == std::string::npos || at == 0 || at + 1 >= email.size() ||
        email.find('@', at + 1) != std::string::npos || at > 64) {
        return invalid();
    }
    for (unsigned char c : email) {
        // ASCII only: lower-casing and comparing non-ASCII addresses safely needs Unicode
        // case folding and normalisation, and look-alike letters would make two accounts.
        if (c >= 0x80) return invalid();
        if (c <= 0x20 || c == 0x7F || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' ||
            c == ';' || c == '\\' || c == '"' || c == '[' || c == ']') {
            return invalid();
        }
    }
    std::string_view domain(email);
    domain.remove_prefix(at + 1);
    if (domain.front() == '.' || domain.back() == '.' ||
        domain.find("..") != std::string_view::npos || domain.front() == '-') {
        return invalid();
    }
    return email;
}

}  // namespace tb
