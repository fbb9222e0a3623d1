// transcript.html: the export for people to read — who said what and when, state changes
// in words, edits, redactions and each event's status. Written one row per event as the
// export streams; every value from an event is HTML-escaped (event content is whatever a
// sender chose, and a reviewer opens this file in a browser). Evidence is events.jsonl;
// this file only renders it.

import { getField, isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';
import type { EventLineMeta } from './bundle-format.ts';

const MAX_SHOWN = 2000;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function transcriptHeader(title: { serverName: string; roomId: string; exportedAt: number; scope: string }): string {
  const heading = `Room ${escapeHtml(title.roomId)}`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${heading}</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.3em .5em;vertical-align:top;text-align:left}
td.t{white-space:nowrap;font-family:monospace;font-size:.85em}
td.id{font-family:monospace;font-size:.75em;color:#777;word-break:break-all}
tr.state td{background:#f6f8fa} tr.bad td{background:#fdecea} tr.redacted td.b{text-decoration:line-through}
.flag{font-size:.75em;border:1px solid #999;border-radius:3px;padding:0 .3em;margin-right:.3em}
</style></head><body>
<h1>${heading}</h1>
<p>Exported by ${escapeHtml(title.serverName)} at ${escapeHtml(new Date(title.exportedAt).toISOString())}; scope: ${escapeHtml(title.scope)}.
Times are the senders' <code>origin_server_ts</code>, in UTC. The evidence is <code>events.jsonl</code>, checked by <code>stoa verify-export</code>; this page only renders it.</p>
`;
}

export function transcriptSectionStart(title: string): string {
  return `<h2>${escapeHtml(title)}</h2>\n<table><thead><tr><th>Time (UTC)</th><th>Sender</th><th>Event</th><th>Event ID</th></tr></thead><tbody>\n`;
}

export const TRANSCRIPT_SECTION_END = '</tbody></table>\n';
export const TRANSCRIPT_FOOTER = '</body></html>\n';

/** One table row for an event; `pdu` is undefined when its JSON could not be read. */
export function transcriptRow(meta: EventLineMeta, pdu: JsonObject | undefined): string {
  if (pdu === undefined) {
    return `<tr class="bad"><td class="t"></td><td></td><td class="b">(unreadable event JSON)</td><td class="id">${escapeHtml(meta.event_id)}</td></tr>\n`;
  }
  const ts = getField(pdu, 'origin_server_ts');
  const time = typeof ts === 'number' && Number.isFinite(ts) ? isoOrEmpty(ts) : '';
  const sender = getField(pdu, 'sender');
  const type = getField(pdu, 'type');
  const isState = typeof getField(pdu, 'state_key') === 'string';
  const flags: string[] = [];
  if (meta.rejected_reason !== null) flags.push(`rejected: ${meta.rejected_reason}`);
  if (meta.soft_failed) flags.push('soft-failed');
  if (meta.outlier) flags.push('outlier');
  if (meta.redacted_by !== null) flags.push(`redacted by ${meta.redacted_by}; original content kept`);
  const classes = [isState ? 'state' : '', meta.rejected_reason !== null || meta.soft_failed ? 'bad' : '', meta.redacted_by !== null ? 'redacted' : '']
    .filter((c) => c !== '')
    .join(' ');
  const flagHtml = flags.map((f) => `<span class="flag">${escapeHtml(f)}</span>`).join('');
  return (
    `<tr${classes === '' ? '' : ` class="${classes}"`}><td class="t">${escapeHtml(time)}</td>` +
    `<td>${escapeHtml(typeof sender === 'string' ? sender : '?')}</td>` +
    `<td>${flagHtml}<span class="b">${escapeHtml(describe(typeof type === 'string' ? type : '?', pdu))}</span></td>` +
    `<td class="id">${escapeHtml(meta.event_id)}</td></tr>\n`
  );
}

function isoOrEmpty(ts: number): string {
  const date = new Date(ts);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString().replace('T', ' ').replace('Z', '');
}

/** The event in words: a message's body, a state change, an edit, a redaction. */
export function describe(type: string, pdu: JsonObject): string {
  const rawContent = getField(pdu, 'content');
  const content: JsonObject = isJsonObject(rawContent) ? rawContent : {};
  const stateKey = getField(pdu, 'state_key');
  const text = (value: JsonValue | undefined): string => (typeof value === 'string' ? truncate(value) : '');
  switch (type) {
    case 'm.room.message': {
      const relates = getField(content, 'm.relates_to');
      const newContent = getField(content, 'm.new_content');
      if (isJsonObject(relates) && getField(relates, 'rel_type') === 'm.replace') {
        const body = isJsonObject(newContent) ? text(getField(newContent, 'body')) : text(getField(content, 'body'));
        return `(edit of ${text(getField(relates, 'event_id'))}) ${body}`;
      }
      const msgtype = text(getField(content, 'msgtype'));
      const body = text(getField(content, 'body'));
      if (msgtype === 'm.emote') return `* ${body}`;
      if (msgtype === 'm.text' || msgtype === 'm.notice' || msgtype === '') return body;
      const url = text(getField(content, 'url'));
      return `[${msgtype}] ${body}${url === '' ? '' : ` (${url})`}`;
    }
    case 'm.room.encrypted':
      return `[end-to-end encrypted: ${text(getField(content, 'algorithm')) || 'unknown algorithm'}; ciphertext only]`;
    case 'm.room.redaction': {
      const target = getField(content, 'redacts') ?? getField(pdu, 'redacts');
      const reason = text(getField(content, 'reason'));
      return `redacted ${text(target)}${reason === '' ? '' : ` (reason: ${reason})`}`;
    }
    case 'm.room.member': {
      const membership = text(getField(content, 'membership'));
      const name = text(getField(content, 'displayname'));
      const reason = text(getField(content, 'reason'));
      return `${text(stateKey)}: ${membership}${name === '' ? '' : ` as "${name}"`}${reason === '' ? '' : ` (reason: ${reason})`}`;
    }
    case 'm.room.name':
      return `room name set to "${text(getField(content, 'name'))}"`;
    case 'm.room.topic':
      return `topic set to "${text(getField(content, 'topic'))}"`;
    case 'm.room.create':
      return `room created (version ${text(getField(content, 'room_version')) || '1'})`;
    default: {
      const key = typeof stateKey === 'string' ? ` [${truncate(stateKey)}]` : '';
      return `${type}${key}: ${truncate(JSON.stringify(content))}`;
    }
  }
}

function truncate(text: string): string {
  return text.length <= MAX_SHOWN ? text : `${text.slice(0, MAX_SHOWN)}…`;
}
