import { describe, expect, it } from 'vitest';
import type { ObjectField, ObjectRecord } from './definitions';
import { changedKeys, dayOf, decimalToMinor, fromFormValue, newRecordBody, patchOf, toForm } from './values';

function field(key: string, type: ObjectField['type'], extra: Partial<ObjectField> = {}): ObjectField {
  return {
    id: `fld_${key}`,
    object: 'project',
    key,
    label: key,
    type,
    options: [],
    required: false,
    unique: false,
    removed: false,
    created_at: '',
    updated_at: '',
    ...extra,
  };
}

const FIELDS = [
  field('budget', 'money'),
  field('stage', 'single_select', { options: ['plan', 'build'] }),
  field('code', 'text'),
  field('client', 'relation', { target: 'contacts' }),
  field('urgent', 'boolean'),
  field('due', 'date'),
  field('hours', 'number'),
  field('tags', 'multi_select', { options: ['a', 'b'] }),
];

const RECORD = {
  id: 'rec_1',
  object: 'project',
  name: '上海仓库改造',
  owner_id: 'usr_1',
  custom: {
    budget: { amount_minor: 5000000, currency: 'CNY' },
    stage: 'plan',
    code: 'P-1',
    client: 'con_1',
    urgent: true,
    due: '2026-12-31',
  },
  created_by: 'usr_1',
  created_at: '2026-12-07T00:00:00Z',
  updated_at: '2026-12-07T00:00:00Z',
  version: 3,
} as unknown as ObjectRecord;
const withCustom = (custom: Record<string, unknown>, more: object = {}) =>
  ({ ...RECORD, ...more, custom: { ...RECORD.custom, ...custom } }) as unknown as ObjectRecord;

describe('money in minor units', () => {
  it('reads decimals exactly, by the currency’s digits', () => {
    expect(decimalToMinor('1,234.50', 'CNY')).toBe(123450n);
    expect(decimalToMinor('0.1', 'CNY')).toBe(10n);
    expect(decimalToMinor('.5', 'USD')).toBe(50n);
    expect(decimalToMinor('19.99', 'CNY')).toBe(1999n);
    expect(decimalToMinor('100', 'JPY')).toBe(100n);
    expect(decimalToMinor('1.5', 'JPY')).toBeNull();
    expect(decimalToMinor('1.234', 'CNY')).toBeNull();
    expect(decimalToMinor('-1', 'CNY')).toBeNull();
    expect(decimalToMinor('abc', 'CNY')).toBeNull();
    // Beyond a float's exact integers, still exact.
    expect(decimalToMinor('90071992547409.93', 'CNY')).toBe(9007199254740993n);
  });

  it('turns a typed amount into the API’s money and back', () => {
    const money = FIELDS[0]!;
    expect(fromFormValue(money, { amount: '50000.00', currency: 'CNY' })).toEqual({ amount_minor: 5000000, currency: 'CNY' });
    expect(fromFormValue(money, { amount: '', currency: 'CNY' })).toBeNull();
    expect(fromFormValue(money, { amount: '1.999', currency: 'CNY' })).toBeUndefined();
    expect(toForm(RECORD, FIELDS).custom.budget).toEqual({ amount: '50000.00', currency: 'CNY' });
  });
});

describe('a new record', () => {
  it('leaves empty values out', () => {
    expect(
      newRecordBody(
        { name: ' 杭州展厅 ', custom: { code: '  ', stage: 'build', tags: [], urgent: false, client: 'con_2', hours: undefined } },
        FIELDS,
      ),
    ).toEqual({ name: '杭州展厅', custom: { stage: 'build', urgent: false, client: 'con_2' } });
  });
});

describe('an edit as a merge patch', () => {
  const all = () => true;
  it('sends only what changed, clearing with null', () => {
    const form = toForm(RECORD, FIELDS);
    const patch = patchOf(RECORD, { ...form, custom: { ...form.custom, stage: 'build', code: '', urgent: true } }, FIELDS, all);
    expect(patch).toEqual({ custom: { stage: 'build', code: null } });
  });

  it('sends nothing when nothing changed', () => {
    expect(patchOf(RECORD, toForm(RECORD, FIELDS), FIELDS, all)).toEqual({});
  });

  it('never sends what the role may not change', () => {
    const form = toForm(RECORD, FIELDS);
    const patch = patchOf(
      RECORD,
      { name: '新名称', owner_id: 'usr_2', custom: { ...form.custom, code: 'P-2', stage: 'build' } },
      FIELDS,
      (f) => f !== 'code' && f !== 'owner_id',
    );
    expect(patch).toEqual({ name: '新名称', custom: { stage: 'build' } });
  });

  it('leaves a masked value alone', () => {
    const masked = withCustom({ code: '****-1' });
    const form = toForm(masked, FIELDS);
    expect('code' in form.custom).toBe(false);
    expect(patchOf(masked, form, FIELDS, all)).toEqual({});
  });

  it('names the fields two versions differ in', () => {
    const later = withCustom({ stage: 'build', hours: 2 }, { name: 'x' });
    expect(changedKeys(RECORD, later, FIELDS)).toEqual(['name', 'stage', 'hours']);
  });
});

describe('dates', () => {
  it('reads a calendar day without a time zone shift', () => {
    const d = dayOf('2026-12-31')!;
    expect([d.getFullYear(), d.getMonth(), d.getDate()]).toEqual([2026, 11, 31]);
    expect(dayOf('31/12/2026')).toBeNull();
  });
});
