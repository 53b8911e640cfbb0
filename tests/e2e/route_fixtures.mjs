// A tenant with one of everything, so that every route of the OpenAPI document can be called
// with real ids (a made-up id would answer 404 before the check a test is after). Used by the
// tests that walk every operation (key_scopes, openapi_statuses). Not a test file itself.

import { as, createKey, expectSuccess, makeTeam } from './tenancy_helpers.mjs';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Every operation of the server's document: [{method, template, op}]. */
export async function operations(server) {
  const document = await (await fetch(`${server.url}/v1/openapi.json`)).json();
  const ops = [];
  for (const [template, item] of Object.entries(document.paths)) {
    for (const m of METHODS) if (item[m]) ops.push({ method: m.toUpperCase(), template, op: item[m] });
  }
  return ops;
}

/**
 * A team (owner, adm, mem, vie) in one tenant, with a collection `scoped` holding a document,
 * an organization with the member in it, an API key, a mail, a file and a realtime client.
 * Returns {team, owner (headers), ids, concrete(template) -> path}.
 */
export async function routeFixtures(server, tag) {
  const team = await makeTeam(server, tag);
  const owner = as(team.owner, team.tid);
  const doc = expectSuccess(await server.post('/v1/collections/scoped/documents', { headers: owner, json: { a: 1 } }), 201);
  const org = expectSuccess(await server.post('/v1/organizations', { headers: owner, json: { name: 'Scoped org' } }), 201);
  expectSuccess(await server.post(`/v1/organizations/${org.id}/members`,
    { headers: owner, json: { user_id: team.mem.user.id, role: 'member' } }), 201);
  const target = await createKey(server, owner, { name: 'target' });
  const mail = expectSuccess(await server.post('/v1/mail', { headers: owner, json: { to: 'a@b.c', subject: 's', text: 't' } }), 202);
  const file = expectSuccess(await server.post('/v1/files?name=fixture.txt',
    { headers: { ...owner, 'Content-Type': 'text/plain' }, body: 'fixture' }), 201);
  // A realtime client: its stream stays open (unread after its connect event) until the
  // server stops, so that the client id stays known.
  const stream = await fetch(`${server.url}/v1/realtime`);
  const first = new TextDecoder().decode((await stream.body.getReader().read()).value);
  const client = /"client_id":"([^"]+)"/.exec(first)[1];
  const ids = { doc: doc._id, org: org.id, key: target.id, mail: mail.id, file: file.id, client };
  /** A concrete path for a template, with the fixtures' ids. */
  const concrete = (template) => {
    let path = template;
    if (template.startsWith('/v1/tenants/{id}')) path = path.replace('{id}', team.tid);
    else if (template.startsWith('/v1/organizations/{id}')) path = path.replace('{id}', ids.org);
    else if (template.startsWith('/v1/api-keys/{id}')) path = path.replace('{id}', ids.key);
    else if (template.startsWith('/v1/mail/{id}')) path = path.replace('{id}', ids.mail);
    else if (template.startsWith('/v1/files/{id}')) path = path.replace('{id}', ids.file);
    else if (template.startsWith('/v1/users/{id}')) path = path.replace('{id}', team.mem.user.id);
    return path.replace('{client_id}', ids.client).replace('{name}', 'scoped').replace('{id}', ids.doc).replace('{user_id}', team.mem.user.id);
  };
  return { team, owner, ids, concrete };
}
