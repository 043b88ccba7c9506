import { describe, expect, it } from 'vitest';
import { changedFields, display, patchOf, type Contact } from './fields';

const base = {
  id: 'con_1',
  name: '王小明',
  emails: [{ address: 'a@example.cn' }],
  title: 'CTO',
  tags: ['vip'],
  created_by: 'usr_1',
  created_at: '2026-12-01T00:00:00Z',
  updated_at: '2026-12-01T00:00:00Z',
  version: 1,
} as Contact;

describe('patchOf', () => {
  it('sends only the fields the user changed', () => {
    expect(patchOf(base, { ...base, title: 'CEO' })).toEqual({ title: 'CEO' });
    expect(patchOf(base, { ...base })).toEqual({});
  });
  it('clears a field with null', () => {
    expect(patchOf(base, { ...base, title: undefined })).toEqual({ title: null });
  });
});

describe('changedFields', () => {
  it('names what someone else changed', () => {
    const theirs = { ...base, tags: ['vip', '展会'], version: 2 };
    expect(changedFields(base, theirs)).toEqual(['tags']);
  });
});

describe('display', () => {
  it('reads lists of emails and phones', () => {
    expect(display([{ address: 'a@x.cn' }, { address: 'b@x.cn' }])).toBe('a@x.cn, b@x.cn');
    expect(display(null)).toBe('—');
  });
});

describe('masked values', () => {
  it('are never sent back, not even as a clear', () => {
    const masked = { ...base, national_id: '****002X' } as Contact;
    expect(patchOf(masked, { ...masked, national_id: undefined, title: 'CEO' })).toEqual({ title: 'CEO' });
    expect(patchOf(masked, { ...masked, national_id: '11010519491231002X' })).toEqual({ national_id: '11010519491231002X' });
  });
});
