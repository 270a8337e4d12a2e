import assert from 'node:assert/strict';
import type { AuditRecord } from '../../gateway/audit/audit-log.ts';
import { canonicalJson } from '../../gateway/audit/canonical-json.ts';
import { GENESIS_HASH, chainHash, recordText, verifyAuditChain, type AuditRow } from '../../gateway/audit/chain.ts';

function chainOf(count: number): AuditRow[] {
  const rows: AuditRow[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= count; seq += 1) {
    const record: AuditRecord = { seq, time: `2026-11-27T09:30:0${seq}.000Z`, kind: 'inbound', fields: { outcome: 'OK', partner: '320500', applyNo: `A${seq}` } };
    const text = recordText(record);
    const hash = chainHash(prevHash, text);
    rows.push({ seq, record: text, prev_hash: prevHash, hash });
    prevHash = hash;
  }
  return rows;
}

describe('the audit hash chain (pure)', function () {
  it('writes records as canonical JSON: members sorted at every level, undefined members left out', function () {
    assert.equal(canonicalJson({ b: 1, a: { d: [true, null, 'x'], c: undefined, b: 'é' } }), '{"a":{"b":"é","d":[true,null,"x"]},"b":1}');
  });

  it('writes integer-like member names in canonical order too (JavaScript lists them first, numerically)', function () {
    assert.equal(canonicalJson({ b: 1, 330500: 'a', 10: 'b', 9: 'c', a: [{ 2: 0, 10: 1 }] }), '{"10":"b","330500":"a","9":"c","a":[{"10":1,"2":0}],"b":1}');
  });

  it('writes a value already in order as it is, and refuses what is not JSON', function () {
    assert.equal(canonicalJson({ a: 'x\u2028"', b: [1, -0, 1e21, 'é'], c: { d: null } }), '{"a":"x\u2028\\"","b":[1,0,1e+21,"é"],"c":{"d":null}}');
    assert.throws(() => canonicalJson({ a: Number.NaN }), /finite numbers/);
    assert.throws(() => canonicalJson({ a: [undefined as unknown as string] }), /JSON values only/);
    assert.throws(() => canonicalJson({ a: new Date(0) as unknown as string }), /plain objects/);
  });

  it('finds an intact chain intact and gives its head', function () {
    const rows = chainOf(5);
    assert.deepEqual(verifyAuditChain(rows), { ok: true, records: 5, head: { seq: 5, hash: rows[4]!.hash } });
    assert.deepEqual(verifyAuditChain([]), { ok: true, records: 0, head: null });
  });

  it('names a record whose content was changed', function () {
    const rows = chainOf(5);
    rows[2] = { ...rows[2]!, record: rows[2]!.record.replace('A3', 'A4') };
    assert.deepEqual(verifyAuditChain(rows), { ok: false, seq: 3, reason: 'record 3 does not match its hash: its content, prev_hash or hash was changed' });
  });

  it('names a record whose stored hash was changed', function () {
    const rows = chainOf(5);
    rows[1] = { ...rows[1]!, hash: rows[1]!.hash.replace(/^./, (c) => (c === '0' ? '1' : '0')) };
    assert.equal((verifyAuditChain(rows) as { seq: number }).seq, 2);
  });

  it('names the first missing record when one was deleted', function () {
    const rows = chainOf(5);
    rows.splice(3, 1);
    assert.deepEqual(verifyAuditChain(rows), { ok: false, seq: 4, reason: 'record 4 is missing (the next stored record is 5)' });
  });

  it('names the record after one that was rewritten with a fresh hash: the link to it no longer holds', function () {
    const rows = chainOf(5);
    const forged = rows[1]!.record.replace('A2', 'B2');
    rows[1] = { ...rows[1]!, record: forged, hash: chainHash(rows[1]!.prev_hash, forged) };
    assert.deepEqual(verifyAuditChain(rows), { ok: false, seq: 3, reason: 'record 3 does not follow record 2: its prev_hash is not that record\'s hash' });
  });
});
