// /v1/mail (API.md §7): an admin of a tenant (or a key with the admin scope) queues a mail
// through the outbox and reads its delivery status.
#include "api/authenticate.h"
#include "api/render.h"
#include "api/v1/handlers.h"

namespace tb::api::v1 {

using http::Request;
using http::Response;
using http::RouteContext;

namespace {

Result<mail::Mail> ParseMail(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, ctx.JsonObject());
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"to", "subject", "text", "html"}));
    mail::Mail m;
    TB_ASSIGN_OR_RETURN(m.to, RequiredString(*o, "to"));
    TB_ASSIGN_OR_RETURN(m.subject, RequiredString(*o, "subject"));
    TB_ASSIGN_OR_RETURN(m.text, OptionalString(*o, "text"));
    TB_ASSIGN_OR_RETURN(m.html, OptionalString(*o, "html"));
    return mail::CheckMail(std::move(m));
}

}  // namespace

http::Handler SendMail(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        if (Status st = who->CanManage(); !st.ok()) co_return Fail(st.error(), ctx);
        auto m = ParseMail(ctx);
        if (!m.ok()) co_return Fail(m.error(), ctx);
        auto entry = co_await s.outbox.Send(who->scope().id(), "api", *m);
        if (!entry.ok()) co_return Fail(entry.error(), ctx);
        co_return Ok(json::object{{"id", entry->id}, {"status", entry->status}}, 202);
    };
}

http::Handler GetMail(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        if (Status st = who->CanManage(); !st.ok()) co_return Fail(st.error(), ctx);
        auto found = co_await s.outbox.Find(who->scope().id(), std::string(ctx.Param("id")));
        if (!found.ok()) co_return Fail(found.error(), ctx);
        if (!*found) co_return Fail(Error::NotFound("Mail not found"), ctx);
        co_return Ok(MailJson(**found));
    };
}

}  // namespace tb::api::v1
