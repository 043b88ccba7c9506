import { describe, expect, it } from 'vitest';
import { customFilters, namedFilters, sortOf, storeColumns, storedColumns, withFilters, withoutFilters } from './list';

describe('a list’s address', () => {
  it('knows the API’s sorts only', () => {
    expect(sortOf(new URLSearchParams('sort=-updated'))).toBe('-updated');
    expect(sortOf(new URLSearchParams('sort=bogus'))).toBeUndefined();
    expect(sortOf(new URLSearchParams(''))).toBeUndefined();
  });

  it('reads the list’s own filters, the set ones only', () => {
    const p = new URLSearchParams('owner_id=usr_1&tags=&city=上海&other=x');
    expect(namedFilters(p, ['owner_id', 'tags', 'city'] as const)).toEqual({ owner_id: 'usr_1', city: '上海' });
  });

  it('reads custom-field filters, of the named fields if given', () => {
    const p = new URLSearchParams('q=仓库&cf.stage=plan&cf.region=华东&cf.Bad=x&cf.empty=&cfx=1');
    expect(customFilters(p)).toEqual({ stage: 'plan', region: '华东' });
    expect(customFilters(p, ['stage'])).toEqual({ stage: 'plan' });
  });

  it('applies the filter form: trimmed values set, emptied ones removed, the rest kept', () => {
    const p = new URLSearchParams('q=王&sort=name&tags=vip&city=上海');
    const next = withFilters(p, { tags: ' 展会 ', city: '', owner_id: undefined, 'cf.paid': true, country: '  ' });
    expect(Object.fromEntries(next)).toEqual({ q: '王', sort: 'name', tags: '展会', 'cf.paid': 'true' });
  });

  it('clears the filters but keeps the search and the sort', () => {
    const p = new URLSearchParams('q=王&sort=name&tags=vip&cf.stage=plan&new=1');
    expect(withoutFilters(p).toString()).toBe(new URLSearchParams('q=王&sort=name').toString());
  });
});

describe('the chosen columns', () => {
  it('are remembered among the columns the list still has, in its order', () => {
    storeColumns('crm.objects.project.columns', ['stage', 'gone', 'client']);
    expect(storedColumns('crm.objects.project.columns', ['client', 'stage'], [])).toEqual(['client', 'stage']);
  });

  it('are the defaults until the user chooses, or when what is stored is unreadable', () => {
    expect(storedColumns('crm.objects.vehicle.columns', ['a', 'b', 'c'], ['a', 'b'])).toEqual(['a', 'b']);
    localStorage.setItem('crm.contacts.columns', '{not json');
    expect(storedColumns('crm.contacts.columns', ['email', 'phone'], ['email'])).toEqual(['email']);
  });
});
