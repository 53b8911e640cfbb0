#include "mail/transport.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>

namespace tb::mail {

namespace {

Delivery Failed(std::string error, bool permanent = false) {
    return {false, permanent, std::move(error)};
}

bool WriteAll(int fd, const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        done += static_cast<size_t>(n);
    }
    return true;
}

// libcurl reads the message through this callback.
struct Reader {
    const std::string* data = nullptr;
    size_t offset = 0;
};

size_t ReadChunk(char* buffer, size_t size, size_t count, void* user) {
    auto* r = static_cast<Reader*>(user);
    size_t n = std::min(size * count, r->data->size() - r->offset);
    r->data->copy(buffer, n, r->offset);  // bytes, not a C string: no terminator wanted
    r->offset += n;
    return n;
}

}  // namespace

Delivery FileTransport::Deliver(const Envelope& envelope, const std::string& message) const {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) return Failed("cannot create " + dir_ + ": " + ec.message());
    std::string final_path = dir_ + "/" + envelope.id + ".eml";
    std::string temp_path = final_path + ".tmp";
    int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return Failed("cannot write " + temp_path + ": " + std::strerror(errno));
    bool ok = WriteAll(fd, message) && ::fsync(fd) == 0;
    ok = (::close(fd) == 0) && ok;
    if (!ok || ::rename(temp_path.c_str(), final_path.c_str()) != 0) {
        ::unlink(temp_path.c_str());
        return Failed("cannot write " + final_path + ": " + std::strerror(errno));
    }
    return {true, false, ""};
}

SmtpTransport::SmtpTransport(SmtpSettings settings) : settings_(std::move(settings)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Delivery SmtpTransport::Deliver(const Envelope& envelope, const std::string& message) const {
    CURL* curl = curl_easy_init();
    if (!curl) return Failed("libcurl could not start");
    std::string from = "<" + envelope.from + ">";
    curl_slist* rcpt = curl_slist_append(nullptr, ("<" + envelope.to + ">").c_str());
    Reader reader{&message};
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_URL, settings_.url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadChunk);
    curl_easy_setopt(curl, CURLOPT_READDATA, &reader);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
    curl_easy_setopt(curl, CURLOPT_USE_SSL,
                     settings_.require_tls ? static_cast<long>(CURLUSESSL_ALL)
                                           : static_cast<long>(CURLUSESSL_TRY));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, settings_.timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, std::min(10L, settings_.timeout_seconds));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    if (!settings_.username.empty()) {
        curl_easy_setopt(curl, CURLOPT_USERNAME, settings_.username.c_str());
        curl_easy_setopt(curl, CURLOPT_PASSWORD, settings_.password.c_str());
    }
    CURLcode rc = curl_easy_perform(curl);
    long response = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(curl);
    if (rc == CURLE_OK) return {true, false, ""};
    std::string text = error[0] ? error : curl_easy_strerror(rc);
    if (response > 0) text += " (SMTP " + std::to_string(response) + ")";
    // A 5xx reply (unknown mailbox, refused sender) is final; connection trouble and 4xx are not.
    return Failed(text, rc != CURLE_LOGIN_DENIED && response >= 500 && response < 600);
}

}  // namespace tb::mail
