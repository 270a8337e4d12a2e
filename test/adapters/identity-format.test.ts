import assert from 'node:assert/strict';
import { compileFormat, parseFormatDocument } from '../../adapters/index.ts';
import { refusedWith } from './support/refusals.ts';

const identity = (limits: string) => compileFormat('plain-json', parseFormatDocument(`name: plain-json\nmediaType: application/json\ncharset: UTF-8\nidentity: true\nlimits: ${limits}\n`));

describe('an identity format: the canonical form itself, held to the format\'s limits both ways', () => {
  const format = identity('{ maxDepth: 3, maxElements: 7 }');
  const within = { applyNo: 'A1', applicant: { name: '张三', ids: ['1', '2'] } };

  it('writes the document exactly as JSON, and reads it back the same', async () => {
    const body = await format.fromCanonical('application.submit', 'request', within);
    assert.equal(body.toString('utf8'), JSON.stringify(within));
    assert.deepEqual(await format.toCanonical('application.submit', 'request', body), within);
  });

  it('refuses to write what the partner would refuse to read: too deep, too many values, a prototype key', async () => {
    const deep = { a: { b: { c: { d: 1 } } } };
    const many = { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7 };
    const prototypeKey = JSON.parse('{"a":{"__proto__":{"x":1}}}') as Record<string, unknown>;
    for (const [document, detail] of [[deep, /nested deeper than 3/], [many, /more than 7 JSON values/], [prototypeKey, /__proto__ is not accepted/]] as const) {
      assert.match(await refusedWith('XR_TRANSLATION', format.fromCanonical('application.submit', 'request', document)), detail);
      // …exactly what reading the same text would have said.
      assert.match(await refusedWith('XR_MALFORMED', format.toCanonical('application.submit', 'request', Buffer.from(JSON.stringify(document)))), detail);
    }
  });

  it('does not count members JSON leaves out (undefined), as the text would not hold them', async () => {
    const body = await format.fromCanonical('application.submit', 'request', { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, gone: undefined } as Record<string, unknown>);
    assert.equal(body.toString('utf8'), '{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}');
  });
});
