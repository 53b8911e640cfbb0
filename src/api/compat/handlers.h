#pragma once
// Handler factories of the compatibility dialects (API.md §11), one file per dialect. Each
// turns the foreign request into calls of the services /v1 uses and the answer back: no
// business rule lives here.

#include "api/services.h"
#include "http/router.h"

namespace tb::api::compat {

// nilux.cpp: /api/auth/* (003_a6612fd435a589e7.txt).
http::Handler NiluxRegister(Services& s);
http::Handler NiluxLogin(Services& s);
http::Handler NiluxRefresh(Services& s);
http::Handler NiluxMe(Services& s);
http::Handler NiluxGetApiKey(Services& s);
http::Handler NiluxRotateApiKey(Services& s);
http::Handler NiluxLogout(Services& s);

// nile.cpp: /workspaces/{workspace}/databases/{database}/… (000_3a478b64d6b51130.txt).
http::Handler NileLogin(Services& s);
http::Handler NileSignUp(Services& s);
http::Handler NileMe(Services& s);
http::Handler NileListTenants(Services& s);
http::Handler NileCreateTenant(Services& s);
http::Handler NileGetTenant(Services& s);
http::Handler NileTenantUsers(Services& s);
http::Handler NileAddTenantUser(Services& s);
http::Handler NileRemoveTenantUser(Services& s);

// restdb.cpp: /rest/{collection}[/{id}] and /rest/_meta (002_a49d1998250bfe28.txt).
http::Handler RestList(Services& s);
http::Handler RestGet(Services& s);
http::Handler RestCreate(Services& s);
http::Handler RestUpdate(Services& s);
http::Handler RestDelete(Services& s);
http::Handler RestMeta(Services& s);

// restdb_media.cpp: /media and /mail, the /v1 file and mail handlers unwrapped.
http::Handler MediaUpload(Services& s);
http::Handler MediaList(Services& s);
http::Handler MediaMeta(Services& s);
http::Handler MediaContent(Services& s);
http::Handler MediaDelete(Services& s);
http::Handler MailSend(Services& s);
http::Handler MailStatus(Services& s);

}  // namespace tb::api::compat
