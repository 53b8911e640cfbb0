// Fuzz target: configuration as it arrives from outside the process (API.md §12). The first
// byte picks the source: even, the rest is a TOML file; odd, the next byte picks a setting
// and the rest is its environment variable's value (TB_A_B_C for a.b_c). Beyond "no crash"
// (toml++ throws; LoadConfig must catch): loading is deterministic, and a value refused from
// the environment is refused naming its variable or setting, so an operator can find it.
#include <cstdint>
#include <string>
#include <string_view>

#include "app/config.h"
#include "common/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    static const std::vector<std::string> kNames = [] {
        std::vector<std::string> names;
        for (auto& n : tb::app::SettingNames())
            if (n.find('<') == std::string::npos) names.push_back(n);
        return names;
    }();
    tb::app::ConfigSources src;
    std::string setting;
    const std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
    if (data[0] % 2 == 0) {
        src.file_text = std::string(reinterpret_cast<const char*>(data) + 1, size - 1);
        src.file_name = "fuzz.toml";
    } else {
        setting = kNames[data[1] % kNames.size()];
        src.env[tb::app::EnvName(setting)] = std::string(rest);
    }
    auto first = tb::app::LoadConfig(src);
    auto second = tb::app::LoadConfig(src);
    tb::FuzzCheck(first.ok() == second.ok(), "loading twice differs");
    if (first.ok()) return 0;
    tb::FuzzCheck(first.error().message == second.error().message, "refusals differ");
    tb::FuzzCheck(!first.error().message.empty(), "a refusal without a message");
    if (!setting.empty()) {
        const std::string& m = first.error().message;
        tb::FuzzCheck(m.find(setting) != std::string::npos ||
                          m.find(tb::app::EnvName(setting)) != std::string::npos,
                      "a refused environment value names neither its variable nor its setting");
    }
    return 0;
}
