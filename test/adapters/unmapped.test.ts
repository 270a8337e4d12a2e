/**
 * A partner body holds only what its mapping reads (adapters/engine/shape.ts): an element, attribute or key
 * the rules do not read would be dropped without a word — a misspelt `<LICENCE_NO>` loses the licence number
 * — so it is XR_TRANSLATION, named by its path. A field `{ ignore: true }` lets a known, harmless extra in.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import iconv from 'iconv-lite';
import { FormatRegistry, compileFormat, parseFormatDocument } from '../../adapters/index.ts';
import { refusedWith } from './support/refusals.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures');
const fixtureText = (family: string, file: string, charset = 'utf8') => iconv.decode(readFileSync(path.join(FIXTURES, family, file)), charset);
const canonical = (family: string, file: string) => JSON.parse(fixtureText(family, file)) as Record<string, unknown>;
const formats = FormatRegistry.withShippedFormats();

describe('Places a partner body holds that its mapping does not read', () => {
  it('refuses a misspelt optional element instead of dropping its value (zj-xml LICENCE_NO for LICENSE_NO)', async () => {
    const zj = formats.get('zj-xml')!;
    const text = fixtureText('zj-xml', 'application.status.request.xml', 'gb18030').replace('</MEMO>', '</MEMO><LICENCE_NO>JY23305020012345</LICENCE_NO>');
    const detail = await refusedWith('XR_TRANSLATION', zj.toCanonical('application.status', 'request', iconv.encode(text, 'gb18030')));
    assert.match(detail, /RECORDS\/RECORD\/LICENCE_NO is not in the format's mapping/);
  });

  it('refuses an attribute the mapping does not read, and lets namespace declarations and xml:lang through', async () => {
    const js = formats.get('js-xml')!;
    const text = fixtureText('js-xml', 'application.status.request.xml');
    const detail = await refusedWith('XR_TRANSLATION', js.toCanonical('application.status', 'request', Buffer.from(text.replace('state="COMPLETED"', 'state="COMPLETED" priority="high"'))));
    assert.match(detail, /Message\/Body\/Status\/@priority is not in the format's mapping/);
    const annotated = text.replace('<Message version="1.0">', '<Message version="1.0" xmlns="urn:example:js" xml:lang="zh-CN">');
    assert.deepEqual(await js.toCanonical('application.status', 'request', Buffer.from(annotated)), canonical('js-xml', 'application.status.request.canonical.json'));
  });

  it('refuses an extra JSON key, at the top and inside an item of a list (sh-json)', async () => {
    const sh = formats.get('sh-json')!;
    const body = JSON.parse(fixtureText('sh-json', 'application.submit.request.json')) as Record<string, unknown> & { clxx: Array<Record<string, unknown>> };
    assert.match(await refusedWith('XR_TRANSLATION', sh.toCanonical('application.submit', 'request', Buffer.from(JSON.stringify({ ...body, zzbh_x: 'x' })))), /zzbh_x is not in the format's mapping/);
    const inItem = { ...body, clxx: [body.clxx[0], { ...body.clxx[0], md5: '00' }] };
    assert.match(await refusedWith('XR_TRANSLATION', sh.toCanonical('application.submit', 'request', Buffer.from(JSON.stringify(inItem)))), /clxx\[2\]\/md5 is not in the format's mapping/);
  });

  it('takes any keys in a map whose keys are the entries (sh-json bdxx → form)', async () => {
    const sh = formats.get('sh-json')!;
    const body = JSON.parse(fixtureText('sh-json', 'application.submit.request.json')) as Record<string, unknown>;
    const translated = await sh.toCanonical('application.submit', 'request', Buffer.from(JSON.stringify({ ...body, bdxx: { 经营范围: '热食类', seats: '12' } })));
    assert.deepEqual(translated.form, { 经营范围: '热食类', seats: '12' });
  });

  it('lets a field marked { ignore: true } in, whatever it holds, drops it, and never writes it', async () => {
    const format = compileFormat('city-xml', parseFormatDocument(`
mediaType: application/xml
charset: UTF-8
messages:
  application.status:
    request:
      root: Ack
      fields:
        No: applyNo
        Note: message
        Trace: { ignore: true }
        "@build": { ignore: true }
`));
    const body = '<Ack build="7"><No>1</No><Note>已收到</Note><Trace><Host>a</Host><Ms>3</Ms></Trace></Ack>';
    assert.deepEqual(await format.toCanonical('application.status', 'request', Buffer.from(body)), { applyNo: '1', message: '已收到' });
    const written = (await format.fromCanonical('application.status', 'request', { applyNo: '1', message: '已收到' })).toString('utf8');
    assert.doesNotMatch(written, /Trace|build/);
    await refusedWith('XR_TRANSLATION', format.toCanonical('application.status', 'request', Buffer.from('<Ack other="1"><No>1</No><Note>x</Note></Ack>')));
  });

  it('reads an answer with places its mapping does not read, as canonical answers with unknown fields are: a receipt is never lost', async () => {
    const zj = formats.get('zj-xml')!;
    const text = fixtureText('zj-xml', 'application.submit.response.xml', 'gb18030').replace('</MEMO>', '</MEMO><TRACE_ID>42</TRACE_ID>');
    assert.deepEqual(await zj.toCanonical('application.submit', 'response', iconv.encode(text, 'gb18030')), canonical('zj-xml', 'application.submit.response.canonical.json'));
  });

  it('refuses a document whose ignore is not true, or that ignores a place another field reads', () => {
    const document = (fields: string) => `
mediaType: application/json
charset: UTF-8
messages:
  application.status:
    response:
      fields:
${fields}
`;
    assert.throws(() => compileFormat('x', parseFormatDocument(document('        no: applyNo\n        msg: message\n        extra: { ignore: false }'))), /extra\.ignore: must be true/);
    assert.throws(() => compileFormat('x', parseFormatDocument(document('        no: applyNo\n        msg: message\n        meta: { ignore: true }\n        meta/id: { const: "1" }'))), /collide/);
  });
});

describe('An optional field a partner sends empty', () => {
  it('is left out of the canonical document, in XML and JSON alike (zj-xml <LICENSE_NO/>, sh-json "zzbh": "")', async () => {
    const zj = formats.get('zj-xml')!;
    const zjText = fixtureText('zj-xml', 'application.status.request.xml', 'gb18030').replace('</MEMO>', '</MEMO><LICENSE_NO/>');
    const zjCanonical = await zj.toCanonical('application.status', 'request', iconv.encode(zjText, 'gb18030'));
    assert.equal('licenceNo' in zjCanonical, false);
    assert.deepEqual(zjCanonical, canonical('zj-xml', 'application.status.request.canonical.json'));
    const sh = formats.get('sh-json')!;
    const shBody = JSON.parse(fixtureText('sh-json', 'application.status.request.json')) as Record<string, unknown>;
    for (const empty of ['', null]) {
      const translated = await sh.toCanonical('application.status', 'request', Buffer.from(JSON.stringify({ ...shBody, zzbh: empty })));
      assert.equal('licenceNo' in translated, false, JSON.stringify(empty));
    }
  });

  it('is still a value where the field is required: an empty <MEMO/> is ""', async () => {
    const zj = formats.get('zj-xml')!;
    const text = fixtureText('zj-xml', 'application.status.request.xml', 'gb18030').replace(/<MEMO>[^<]*<\/MEMO>/, '<MEMO/>');
    assert.equal((await zj.toCanonical('application.status', 'request', iconv.encode(text, 'gb18030'))).remark, '');
  });
});

/**
 * The canonical side of the same rule (adapters/engine/carried.ts): an outgoing request holding a field its
 * partner's mapping does not write would reach the partner without it. XR_TRANSLATION, named by the
 * canonical path; answers are written with what the format has room for.
 */
describe('Canonical fields an outgoing request holds that its mapping does not write', () => {
  const shDocument = readFileSync(path.resolve(import.meta.dirname, '../../adapters/formats/sh-json.yaml'), 'utf8');
  const without = (line: RegExp) => {
    const edited = shDocument.replace(line, '');
    assert.notEqual(edited, shDocument, `the line ${line} is in sh-json.yaml`);
    return compileFormat('sh-json', parseFormatDocument(edited));
  };
  const submit = () => canonical('sh-json', 'application.submit.request.canonical.json');

  it('refuses a request whose mapping lost a line, at the top, inside an object and inside a list item', async () => {
    const cases: Array<[RegExp, RegExp]> = [
      [/^ {8}ywbh: applyNo {10,}# 业务编号\n/m, /application\.submit request: canonical applyNo has no place in format sh-json: it would be lost/],
      [/^ {8}lxdh: applicant\.mobile.*\n/m, /canonical applicant\.mobile has no place in format sh-json/],
      [/^ {12}zy: sha256.*\n/m, /canonical materials\[0\]\.sha256 has no place in format sh-json/],
      [/^ {8}bdxx: \{ entries: form \}.*\n/m, /canonical form has no place in format sh-json/],
    ];
    for (const [line, detail] of cases) {
      assert.match(await refusedWith('XR_TRANSLATION', without(line).fromCanonical('application.submit', 'request', submit())), detail);
    }
  });

  it('writes a request that leaves out what the mapping lost, and ignores members that are null', async () => {
    const format = without(/^ {8}lxdh: applicant\.mobile.*\n/m);
    const message = submit() as { applicant: Record<string, unknown> };
    delete message.applicant.mobile;
    assert.doesNotMatch((await format.fromCanonical('application.submit', 'request', message)).toString('utf8'), /lxdh/);
    message.applicant.mobile = null;
    await format.fromCanonical('application.submit', 'request', message);
  });

  it('writes every request of the four message types, with every optional field, in every shipped format', async () => {
    const requests = {
      'application.submit': canonical('sh-json', 'application.submit.request.canonical.json'),
      'application.status': { ...canonical('sh-json', 'application.status.request.canonical.json'), licenceNo: 'JY23305020012345' },
      'licence.verify': {
        verifyNo: 'V3305022026112900001', licenceNo: 'JY23305020012345',
        holder: { idType: '111', idNumber: '310117198506150033', name: '李明' }, requestedAt: '2026-11-29T10:00:00+08:00',
      },
      'evaluation.submit': { applyNo: '3305022026112900001', score: 5, comment: '办事快，服务好', evaluatedAt: '2026-11-29T10:00:00+08:00' },
    } as const;
    for (const family of ['sh-json', 'zj-xml', 'js-xml', 'ah-xml']) {
      for (const [messageType, message] of Object.entries(requests) as Array<[keyof typeof requests, Record<string, unknown>]>) {
        const written = await formats.get(family)!.fromCanonical(messageType, 'request', message);
        const text = family === 'zj-xml' ? iconv.decode(written, 'gb18030') : written.toString('utf8');
        for (const value of ['JY23305020012345', '李明', '办事快，服务好'].filter((v) => JSON.stringify(message).includes(v))) {
          assert.ok(text.includes(value), `${family} ${messageType} carries ${value}`);
        }
      }
    }
  });

  it('does not check a scope with a computed field: what a JSONata expression reads cannot be told for sure', async () => {
    const document = (computed: string) => compileFormat('c-json', parseFormatDocument(`
mediaType: application/json
charset: UTF-8
messages:
  evaluation.submit:
    request:
      fields:
        no: applyNo
        score: { canonical: score, type: integer }
        at: evaluatedAt
        text: { toPartner: ${JSON.stringify(computed)} }
`));
    const evaluation = { applyNo: '1', score: 5, comment: '好', evaluatedAt: '2026-11-29T10:00:00+08:00' };
    assert.equal(JSON.parse((await document('$lookup($, "comment")').fromCanonical('evaluation.submit', 'request', evaluation)).toString('utf8')).text, '好');
    await document('"fixed"').fromCanonical('evaluation.submit', 'request', evaluation);
  });

  it('leaves out a field the document drops on purpose, at the top and in a list\'s items, and refuses a drop that is not a path', async () => {
    const dropping = compileFormat('sh-json', parseFormatDocument(shDocument
      .replace(/^ {8}lxdh: applicant\.mobile.*\n/m, '')
      .replace(/^ {12}zy: sha256.*\n/m, '')
      .replace(/^( {8}bdxx: \{ entries: form \}.*\n)/m, '$1      drop: [applicant.mobile, "materials[].sha256"]\n')));
    const written = JSON.parse((await dropping.fromCanonical('application.submit', 'request', submit())).toString('utf8')) as { sqrxm: string; lxdh?: string; clxx: Array<{ zy?: string }> };
    assert.equal(written.sqrxm, (submit() as { applicant: { name: string } }).applicant.name);
    assert.equal(written.lxdh, undefined);
    assert.equal(written.clxx[0]!.zy, undefined);
    for (const bad of ['"materials[]"', '"applicant..mobile"', '[]', 'applicant.mobil', 'materials.sha256', '"applicant[].name"', 'nosuch']) {
      const text = shDocument.replace(/^( {8}bdxx: \{ entries: form \}.*\n)/m, `$1      drop: ${bad === '[]' ? '[]' : `[${bad}]`}\n`);
      assert.throws(() => compileFormat('sh-json', parseFormatDocument(text)), /drop/);
    }
  });

  it('writes an answer with a field its format has no place for, without it: the answer is never lost', async () => {
    const sh = formats.get('sh-json')!;
    const answer = { ...canonical('sh-json', 'application.submit.response.canonical.json'), trackingUrl: 'https://example.org/t/1' };
    assert.doesNotMatch((await sh.fromCanonical('application.submit', 'response', answer)).toString('utf8'), /example\.org/);
  });
});

/**
 * A document being put (FormatRegistry.check) must map every field the canonical form requires of each message
 * it maps: one that lost such a line could neither read nor write a single message of that kind. A document
 * already stored loads as before (put): it was accepted by an earlier version, and its messages are refused
 * one by one instead.
 */
describe('A new document maps every field the canonical form requires', () => {
  const shDocument = readFileSync(path.resolve(import.meta.dirname, '../../adapters/formats/sh-json.yaml'), 'utf8');
  const registry = new FormatRegistry();

  it('accepts every shipped document', () => {
    for (const name of ['ah-xml', 'hz-json', 'js-xml', 'sh-json', 'zj-xml']) {
      registry.check(name, readFileSync(path.resolve(import.meta.dirname, `../../adapters/formats/${name}.yaml`), 'utf8'));
    }
  });

  it('refuses one that maps no applyNo, or no sha256 in the items of materials, naming the mapping and the field', () => {
    const hint = ' (a partner with no place for it: name it in drop)';
    assert.throws(() => registry.check('sh-json', shDocument.replace(/^ {8}ywbh: applyNo {10,}# 业务编号\n/m, '')), {
      code: 'XR_BAD_REQUEST',
      detail: `messages["application.submit"].request.fields: maps no field to canonical applyNo, which every application.submit request holds${hint}`,
    });
    assert.throws(() => registry.check('sh-json', shDocument.replace(/^ {12}zy: sha256.*\n/m, '')), {
      detail: `messages["application.submit"].request.fields: maps no field to canonical materials[].sha256, which every application.submit request holds${hint}`,
    });
    assert.throws(() => registry.check('sh-json', shDocument.replace(/^ {8}sqrxm: applicant\.name.*\n/m, '').replace(/^ {8}zjhm: applicant\.idNumber.*\n/m, '')), {
      detail: /canonical applicant\.name, applicant\.idNumber, which every/,
    });
  });

  it('does not count a computed field, which is written but never read, and says how to drop a field', () => {
    assert.throws(() => registry.check('sh-json', shDocument.replace(/^ {8}ywbh: applyNo( {10,}# 业务编号\n)/m, '        ywbh: { toPartner: applyNo }$1')), {
      detail: /maps no field to canonical applyNo, which every application\.submit request holds \(a partner with no place for it: name it in drop\)/,
    });
  });

  it('takes one that drops a required field on purpose (drop), saying so', () => {
    registry.check('sh-json', shDocument
      .replace(/^ {8}lxdh: applicant\.mobile.*\n/m, '')
      .replace(/^( {8}bdxx: \{ entries: form \}.*\n)/m, '$1      drop: [applicant.mobile]\n'));
  });

  it('takes one that leaves out an optional field, and loads a stored one that lacks a required field as before', async () => {
    registry.check('sh-json', shDocument.replace(/^ {8}zzbh: \{ canonical: licenceNo, optional: true \}.*\n/m, ''));
    const stored = registry.put('sh-json', shDocument.replace(/^ {8}ywbh: applyNo {10,}# 业务编号\n/m, ''));
    assert.match(await refusedWith('XR_TRANSLATION', stored.fromCanonical('application.submit', 'request', canonical('sh-json', 'application.submit.request.canonical.json'))), /canonical applyNo has no place/);
  });
});
