import { describe, expect, it } from 'vitest';
import { mergePlan, mergeRows, type Contact } from './merge';

const meta = { created_by: 'usr_1', created_at: '2026-12-01T00:00:00Z', updated_at: '2026-12-01T00:00:00Z', version: 1 };
const a = {
  ...meta,
  id: 'con_a',
  name: '张伟',
  title: 'CTO',
  company_name: null,
  emails: [{ address: 'zw@example.cn' }],
  tags: ['vip'],
  custom: { wechat: 'zw1' },
} as unknown as Contact;
const b = {
  ...meta,
  id: 'con_b',
  name: '张伟',
  title: 'Sales Director',
  company_name: '深圳某某',
  emails: [{ address: 'zw@example.cn' }, { address: 'w@b.cn' }],
  tags: ['展会'],
  custom: { wechat: 'zw2' },
} as unknown as Contact;

describe('merge', () => {
  it('lists the fields to choose, fill and combine', () => {
    const rows = mergeRows(a, b);
    const by = Object.fromEntries(rows.map((r) => [r.field, r]));
    expect(by.name!.choose).toBe(false); // the same on both
    expect(by.title!.choose).toBe(true);
    expect(by.company_name!.choose).toBe(false); // filled from the other
    expect(by.emails!.combined).toBe(true);
    expect(by['custom.wechat']!.choose).toBe(true);
    expect(rows.some((r) => r.field === 'notes')).toBe(false); // absent from both
  });

  it('takes the chosen fields and names what is lost', () => {
    const rows = mergeRows(a, b);
    expect(mergePlan(rows, {})).toEqual({
      take: [],
      lost: [
        { field: 'title', value: 'Sales Director' },
        { field: 'custom.wechat', value: 'zw2' },
      ],
    });
    expect(mergePlan(rows, { title: 'b' })).toEqual({
      take: ['title'],
      lost: [
        { field: 'title', value: 'CTO' },
        { field: 'custom.wechat', value: 'zw2' },
      ],
    });
  });
});
