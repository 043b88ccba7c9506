import { describe, expect, it } from 'vitest';
import type { Me } from '../../auth/me';
import { canObject, labelOf, objectFieldRule, recordPath, relationsTo, type ObjectDefinition } from './definitions';
import { filterParams } from './list';

function me(permissions: Me['permissions'], field_rules: Me['field_rules'] = {}): Me {
  return { permissions, field_rules } as Me;
}

const PROJECT = {
  key: 'project',
  label: { en: 'Project', 'zh-CN': '项目' },
  plural_label: { en: 'Projects', 'zh-CN': '项目' },
  fields: [
    { key: 'client', type: 'relation', target: 'contacts', removed: false },
    { key: 'old_client', type: 'relation', target: 'contacts', removed: true },
    { key: 'firm', type: 'relation', target: 'companies', removed: false },
    { key: 'stage', type: 'single_select', removed: false },
  ],
} as unknown as ObjectDefinition;

describe('labels', () => {
  it('speak the reader’s language, else the other one', () => {
    expect(labelOf({ en: 'Project', 'zh-CN': '项目' }, 'zh-CN')).toBe('项目');
    expect(labelOf({ en: 'Project', 'zh-CN': '项目' }, 'en')).toBe('Project');
    expect(labelOf({ 'zh-CN': '车辆' }, 'en')).toBe('车辆');
    expect(labelOf({ en: 'Vehicle', 'zh-CN': null }, 'zh-CN')).toBe('Vehicle');
  });
});

describe('grants', () => {
  it('take an object’s own grant or objects/*', () => {
    expect(canObject(me({ 'objects/*': { read: 'all' } }), 'project', 'read')).toBe(true);
    expect(canObject(me({ 'objects/project': { read: 'own' } }), 'project', 'read')).toBe(true);
    expect(canObject(me({ 'objects/project': { read: 'own' } }), 'project', 'delete')).toBe(false);
    expect(canObject(me({ 'objects/vehicle': { read: 'all' } }), 'project', 'read')).toBe(false);
  });

  it('read field rules as the role names them (custom.<key>)', () => {
    const m = me({ 'objects/project': { read: 'all' } }, { 'objects/project': { 'custom.code': 'hidden', owner_id: 'read_only' } });
    expect(objectFieldRule(m, 'project', 'code')).toBe('hidden');
    expect(objectFieldRule(m, 'project', 'owner_id')).toBe('read_only');
    expect(objectFieldRule(m, 'project', 'stage')).toBeUndefined();
  });
});

describe('related lists', () => {
  it('come from the live relation fields to the target the caller may filter on', () => {
    const all = me({ 'objects/*': { read: 'all' } });
    expect(relationsTo([PROJECT], 'contacts', all).map((r) => r.field.key)).toEqual(['client']);
    expect(relationsTo([PROJECT], 'companies', all).map((r) => r.field.key)).toEqual(['firm']);
    const hidden = me({ 'objects/*': { read: 'all' } }, { 'objects/project': { 'custom.client': 'hidden' } });
    expect(relationsTo([PROJECT], 'contacts', hidden)).toEqual([]);
    expect(relationsTo([PROJECT], 'contacts', me({ contacts: { read: 'all' } }))).toEqual([]);
  });

  it('link to the related record’s page', () => {
    expect(recordPath('contacts', 'con_1')).toBe('/contacts/con_1');
    expect(recordPath('companies', 'com_1')).toBe('/companies/com_1');
    expect(recordPath('project', 'rec_1')).toBe('/objects/project/rec_1');
  });
});

describe('a list’s address', () => {
  it('keeps search, sort, owner and the known filters', () => {
    const p = new URLSearchParams('q=仓库&sort=-updated&owner_id=usr_1&cf.stage=plan&cf.unknown=x&sort2=y');
    expect(filterParams(p, [{ key: 'stage' }])).toEqual({ q: '仓库', sort: '-updated', owner: 'usr_1', custom: { stage: 'plan' } });
    expect(filterParams(new URLSearchParams('sort=bogus'), []).sort).toBeUndefined();
  });
});
