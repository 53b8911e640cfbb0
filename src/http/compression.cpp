#include "http/compression.h"

#include <zlib.h>

#include <algorithm>

#include "common/strings.h"

namespace tb::http {

namespace {

// The q-value of one Accept-Encoding member ("gzip;q=0.5" -> 0.5; none -> 1).
double QValue(std::string_view params) {
    for (const std::string& p : SplitTrimmed(params, ';')) {
        std::string_view param = p;
        if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
            std::string value(Trim(param.substr(2)));
            char* end = nullptr;
            double q = std::strtod(value.c_str(), &end);
            if (end == value.c_str()) return 0;  // malformed: as if refused
            return q;
        }
    }
    return 1;
}

bool Compressible(std::string_view content_type) {
    std::string_view media = Trim(content_type.substr(0, content_type.find(';')));
    return IEquals(media, "application/json") || IEquals(media, "application/javascript") ||
           IEquals(media, "image/svg+xml") ||
           (media.size() > 5 && IEquals(media.substr(0, 5), "text/"));
}

}  // namespace

bool AcceptsGzip(std::string_view accept_encoding) {
    std::optional<double> gzip, any;
    for (const std::string& member : SplitTrimmed(accept_encoding, ',')) {
        std::string_view m = member;
        size_t semi = m.find(';');
        std::string_view coding = Trim(m.substr(0, semi));
        double q = semi == std::string_view::npos ? 1 : QValue(m.substr(semi + 1));
        if (IEquals(coding, "gzip") || IEquals(coding, "x-gzip")) {
            gzip = q;
        } else if (coding == "*") {
            any = q;
        }
    }
    if (gzip) return *gzip > 0;
    return any && *any > 0;
}

std::optional<std::string> Gzip(std::string_view data, int level) {
    // A window no larger than the data and a hash table to match: zlib's defaults (32 KiB,
    // memLevel 8) allocate and clear some 256 KiB per call, which cost more than compressing
    // a 5 KB answer. The output is the same gzip format, readable by every client.
    int window_bits = 9;
    while (window_bits < 15 && (size_t{1} << window_bits) < data.size()) ++window_bits;
    int mem_level = std::clamp(window_bits - 9, 1, 8);
    z_stream z{};
    // windowBits + 16: a gzip header and trailer instead of zlib's.
    if (deflateInit2(&z, level, Z_DEFLATED, window_bits + 16, mem_level, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return std::nullopt;
    std::string out;
    out.resize(deflateBound(&z, static_cast<uLong>(data.size())));
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    int rc = deflate(&z, Z_FINISH);
    size_t written = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) return std::nullopt;
    out.resize(written);
    return out;
}

void CompressResponse(const Request& request, Response& response, int level) {
    if (response.body.size() < kMinCompressBytes) return;
    if (!Compressible(response.headers.Get("content-type"))) return;
    response.headers.Add("Vary", "Accept-Encoding");
    if (response.headers.Has("content-encoding")) return;
    if (!AcceptsGzip(request.headers.Get("accept-encoding"))) return;
    auto gzipped = Gzip(response.body, level);
    if (!gzipped || gzipped->size() >= response.body.size()) return;
    response.body = std::move(*gzipped);
    response.headers.Add("Content-Encoding", "gzip");
    std::string_view etag = response.headers.Get("etag");
    if (!etag.empty() && !etag.starts_with("W/"))
        response.headers.Set("ETag", "W/" + std::string(etag));
}

void StaticGzip::Serve(const Request& request, Response& response) {
    std::string_view text = text_();
    if (text.size() >= kMinCompressBytes && AcceptsGzip(request.headers.Get("accept-encoding"))) {
        std::call_once(once_, [this, text] { gzipped_ = Gzip(text, 9); });
        if (gzipped_) {
            response.body = *gzipped_;
            response.headers.Add("Content-Encoding", "gzip");
            return;
        }
    }
    response.body = std::string(text);
}

}  // namespace tb::http
