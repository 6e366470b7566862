// herald's /api/v2/ read by a third-party Statuspage client: statuspage.io
// fetches every endpoint, and each answer is validated against a JSON Schema
// generated, at run time, from that package's own unmodified response types
// (dist/interfaces/Result.d.ts). Neither herald nor this test writes the
// schema, so "no complaints" means a real client finds every key it expects,
// with the type it expects.
//
// The schema cannot check time formats, so this script also requires every
// *_at, scheduled_for and scheduled_until to be null or an RFC 3339 UTC time.
// It expects the page that tests/e2e/statuspage_client_test.sh sets up, and
// fails when an endpoint lacks what that page must show, so that an empty
// answer cannot pass.
//
// usage: node check_statuspage_api.mjs BASE_URL   (e.g. http://127.0.0.1:7600)
// Prints one line per endpoint; exits 1 with every complaint on any failure.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const Ajv = require('ajv');
const { Statuspage } = require('statuspage.io');

const baseUrl = process.argv[2];
if (!baseUrl) {
  console.error('usage: node check_statuspage_api.mjs BASE_URL');
  process.exit(2);
}

// generateSchema: statuspage.io's response types as a JSON Schema, made by
// ts-json-schema-generator in a temp dir. Every key is required; extra keys
// (herald's started_at, components, ...) are allowed, as a client ignores them.
function generateSchema() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'statuspage-schema-'));
  try {
    const out = path.join(dir, 'schema.json');
    execFileSync(path.join(here, 'node_modules/.bin/ts-json-schema-generator'), [
      '--path', path.join(here, 'node_modules/statuspage.io/dist/interfaces/Result.d.ts'),
      '--type', '*', '--no-type-check', '--additional-properties', '-o', out,
    ], { stdio: ['ignore', 'ignore', 'inherit'] });
    return JSON.parse(fs.readFileSync(out, 'utf8'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const schema = generateSchema();
const ajv = new Ajv({ allErrors: true });
ajv.addSchema(schema, 'statuspage.io');
const validatorOf = (type) => ajv.getSchema(`statuspage.io#/definitions/${type}`);

// statuspage.io types a scheduled maintenance as an incident with its own
// status, so it still takes the impact and each update's status from the
// incident enums. Statuspage itself answers impact "maintenance" and update
// statuses from the maintenance enum (the same package's MaintenanceStatus),
// so a faithful maintenance always draws these two complaints. Exactly these
// (path, value) pairs are let through; any other complaint fails.
const maintenanceStatuses = schema.definitions.MaintenanceStatus.enum;
const knownFalsePositives = [
  { path: /^\/scheduled_maintenances\/\d+\/impact$/, allows: (v) => v === 'maintenance' },
  {
    path: /^\/scheduled_maintenances\/\d+\/incident_updates\/\d+\/status$/,
    allows: (v) => maintenanceStatuses.includes(v),
  },
];

// valueAt: the value at a JSON pointer such as /scheduled_maintenances/0/impact.
function valueAt(doc, pointer) {
  return pointer.split('/').slice(1).reduce((node, key) => node?.[key], doc);
}

// schemaComplaints: what the generated schema says about BODY as TYPE, and
// how many known maintenance false positives it let through.
function schemaComplaints(type, body) {
  const validate = validatorOf(type);
  if (validate(body)) return { complaints: [], allowed: 0 };
  const complaints = [];
  let allowed = 0;
  for (const e of validate.errors) {
    const value = valueAt(body, e.instancePath);
    const known = e.keyword === 'enum' &&
      knownFalsePositives.some((k) => k.path.test(e.instancePath) && k.allows(value));
    if (known) {
      allowed++;
    } else {
      const allowedValues = e.params.allowedValues ? ` ${JSON.stringify(e.params.allowedValues)}` : '';
      // A missing key's parent object is long and says nothing more.
      const got = e.keyword === 'required' ? '' : ` (value: ${JSON.stringify(value)})`;
      complaints.push(`${e.instancePath || '/'} ${e.message}${allowedValues}${got}`);
    }
  }
  return { complaints, allowed };
}

// RFC 3339 in UTC, e.g. 2026-11-29T15:22:52Z or with fractional seconds; the
// round trip through Date refuses days such as 2026-02-30.
const utcTime = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z$/;
function isUtcTime(s) {
  const m = typeof s === 'string' && utcTime.exec(s);
  if (!m) return false;
  const t = new Date(s);
  return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 19) === m[1];
}
const isTimeKey = (key) => key.endsWith('_at') || key === 'scheduled_for' || key === 'scheduled_until';

// timeComplaints: every time key anywhere in BODY that is neither null nor a
// UTC time ("" included).
function timeComplaints(body, at = '') {
  const out = [];
  if (Array.isArray(body)) {
    body.forEach((v, i) => out.push(...timeComplaints(v, `${at}/${i}`)));
  } else if (body && typeof body === 'object') {
    for (const [key, v] of Object.entries(body)) {
      if (isTimeKey(key) && v !== null && !isUtcTime(v)) {
        out.push(`${at}/${key} is neither null nor an RFC 3339 UTC time (value: ${JSON.stringify(v)})`);
      }
      out.push(...timeComplaints(v, `${at}/${key}`));
    }
  }
  return out;
}

// What the e2e test's page must show on each endpoint; each returns the
// complaints. `expect` records one when its condition is false.
const unresolvedStatuses = ['investigating', 'identified', 'monitoring'];
function contentComplaints(endpoint, body) {
  const out = [];
  const expect = (ok, what) => { if (!ok) out.push(what); };
  const incidents = body.incidents ?? [];
  const maintenances = body.scheduled_maintenances ?? [];
  const components = body.components ?? [];
  const groupsHold = () => {
    const groups = components.filter((c) => c.group === true);
    expect(groups.length >= 1, 'no component with group: true');
    for (const g of groups) {
      expect(components.some((c) => c.group_id === g.id),
        `group ${JSON.stringify(g.id)} has no component whose group_id names it`);
    }
    for (const c of components.filter((c) => c.group_id !== null && c.group_id !== undefined)) {
      expect(groups.some((g) => g.id === c.group_id),
        `component ${JSON.stringify(c.id)} names group ${JSON.stringify(c.group_id)}, which is not listed`);
    }
  };
  switch (endpoint) {
    case 'summary.json':
      expect(incidents.length >= 1, `expected at least 1 unresolved incident, got ${incidents.length}`);
      expect(maintenances.length >= 2, `expected at least 2 maintenances (1 in progress, 1 upcoming), got ${maintenances.length}`);
      groupsHold();
      break;
    case 'status.json':
      expect(['none', 'minor', 'major', 'critical', 'maintenance'].includes(body.status?.indicator),
        `status.indicator ${JSON.stringify(body.status?.indicator)} is not one of Statuspage's`);
      break;
    case 'components.json':
      groupsHold();
      break;
    case 'incidents.json':
      expect(incidents.some((i) => unresolvedStatuses.includes(i.status)), 'no unresolved incident');
      expect(incidents.some((i) => ['resolved', 'postmortem'].includes(i.status) && i.resolved_at !== null &&
          typeof i.postmortem_body === 'string' && i.postmortem_body !== '' && i.postmortem_published_at !== null),
        'no resolved incident with a postmortem (postmortem_body and postmortem_published_at)');
      break;
    case 'incidents/unresolved.json':
      expect(incidents.length >= 1, 'no unresolved incident');
      for (const i of incidents) {
        expect(unresolvedStatuses.includes(i.status), `${i.id} is listed as unresolved with status ${JSON.stringify(i.status)}`);
      }
      break;
    case 'scheduled-maintenances.json':
      expect(maintenances.length >= 2, `expected at least 2 maintenances, got ${maintenances.length}`);
      break;
    case 'scheduled-maintenances/upcoming.json':
      expect(maintenances.length >= 1, 'no upcoming maintenance');
      for (const m of maintenances) {
        expect(m.status === 'scheduled', `${m.id} is listed as upcoming with status ${JSON.stringify(m.status)}`);
      }
      break;
    case 'scheduled-maintenances/active.json':
      expect(maintenances.length === 1, `expected exactly 1 active maintenance, got ${maintenances.length}`);
      for (const m of maintenances) {
        expect(['in_progress', 'verifying'].includes(m.status),
          `${m.id} is listed as active with status ${JSON.stringify(m.status)}`);
      }
      break;
  }
  return out;
}

const client = new Statuspage('herald');
client.setApiUrl(baseUrl);
const { api } = client;
// statuspage.io 3.3.8's scheduledMaintenances.getAll() and getActive() both
// request /upcoming.json (a bug in the package), so those two paths are
// fetched through the client's own axios instance instead.
const viaClient = (p) => async () => (await client.apiClient.get(p)).data;
const endpoints = [
  ['summary.json', 'Summary', api.getSummary],
  ['status.json', 'Status', api.getStatus],
  ['components.json', 'Components', api.getComponents],
  ['incidents.json', 'Incidents', () => api.incidents.getAll()],
  ['incidents/unresolved.json', 'Incidents', () => api.incidents.getUnresolved()],
  ['scheduled-maintenances.json', 'ScheduledMaintenances', viaClient('/api/v2/scheduled-maintenances.json')],
  ['scheduled-maintenances/upcoming.json', 'ScheduledMaintenances', () => api.scheduledMaintenances.getUpcoming()],
  ['scheduled-maintenances/active.json', 'ScheduledMaintenances', viaClient('/api/v2/scheduled-maintenances/active.json')],
];

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
let failed = 0;
for (const [endpoint, type, fetch] of endpoints) {
  let body;
  try {
    body = await fetch();
  } catch (e) {
    failed++;
    console.log(`FAIL ${endpoint}: statuspage.io could not fetch it: ${e.message}`);
    continue;
  }
  const { complaints, allowed } = schemaComplaints(type, body);
  complaints.push(...timeComplaints(body), ...contentComplaints(endpoint, body));
  if (complaints.length) {
    failed++;
    console.log(`FAIL ${endpoint} (as ${type}):`);
    for (const c of complaints) console.log(`  ${c}`);
    continue;
  }
  const counts = ['components', 'incidents', 'scheduled_maintenances']
    .filter((k) => Array.isArray(body[k]) && body[k].length)
    .map((k) => plural(body[k].length, k.replace('scheduled_', '').replace(/s$/, '')));
  const note = allowed ? `; ${allowed} known maintenance enum complaint(s) allowed` : '';
  console.log(`ok   ${endpoint} (as ${type}): ${counts.join(', ') || `status ${body.status.indicator}`}${note}`);
}
if (failed) {
  console.log(`${plural(failed, 'endpoint')} of ${endpoints.length} failed`);
  process.exit(1);
}
console.log(`all ${endpoints.length} endpoints parse as statuspage.io's types`);
