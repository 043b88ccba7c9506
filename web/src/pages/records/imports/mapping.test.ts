import { describe, expect, it } from 'vitest';
import {
  withIgnoredColumns,
  decode,
  fieldFor,
  guessDelimiter,
  mappingProblem,
  mapQuery,
  parseCsv,
  serverFold,
  suggestMapping,
  TARGETS,
  targetsOf,
} from './mapping';

describe('suggestMapping', () => {
  it('maps Chinese contact headers to fields', () => {
    const headers = ['姓名', '手机', '电话', '邮箱', '公司', '职位', '标签', '城市', '省份'];
    expect(suggestMapping('contacts', headers)).toEqual([
      'name',
      'phone',
      null, // 电话 is a phone too, but the phone is already filled by 手机
      'email',
      'company_name',
      'title',
      'tags',
      'city',
      'region',
    ]);
  });

  it('maps English headers, any case and spacing, and ignores unknown ones', () => {
    expect(suggestMapping('contacts', ['Name', 'E-mail', 'Job Title', 'Mobile', 'Favourite colour'])).toEqual([
      'name',
      'email',
      'title',
      'phone',
      null,
    ]);
  });

  it('reads headers as companies want them', () => {
    expect(suggestMapping('companies', ['公司名称', '行业', '规模', '省份', '区县', '网址', '地址'])).toEqual([
      'name',
      'industry',
      'size_band',
      'province',
      'district',
      'website',
      'address',
    ]);
    expect(fieldFor('companies', '邮箱')).toBeNull();
  });

  it('finds custom fields by key or label', () => {
    const custom = [{ key: 'wechat', label: '微信号' }];
    expect(fieldFor('contacts', '微信号', custom)).toBe('custom.wechat');
    expect(fieldFor('contacts', 'WeChat', custom)).toBe('custom.wechat');
  });
});

describe('mappingProblem', () => {
  it('needs a name and no field twice', () => {
    expect(mappingProblem(['email', null])).toBe('needName');
    expect(mappingProblem(['name', 'email', 'email'])).toBe('twice');
    expect(mappingProblem(['name', null, 'email'])).toBeNull();
  });
  it('sends only mapped columns', () => {
    expect(mapQuery(['姓名', 'x', '邮箱'], ['name', null, 'email'])).toEqual({ 姓名: 'name', 邮箱: 'email' });
  });
});

describe('reading the file', () => {
  it('parses quotes, doubled quotes, line breaks in cells and counts rows', () => {
    const text = '姓名,备注\r\n王小明,"说 ""你好""\n第二行"\n李小红,ok\n\n';
    const { records, rows } = parseCsv(text, ',');
    expect(records[0]).toEqual(['姓名', '备注']);
    expect(records[1]).toEqual(['王小明', '说 "你好"\n第二行']);
    expect(rows).toBe(2);
  });
  it('guesses the delimiter and the encoding', () => {
    expect(guessDelimiter('name;email;phone\na,b;c')).toBe(';');
    expect(guessDelimiter('name,email\n')).toBe(',');
    const utf8 = new TextEncoder().encode('\uFEFF姓名,手机\n');
    expect(decode(utf8)).toEqual({ text: '姓名,手机\n', encoding: 'utf-8' });
    // 姓名 in GBK
    const gbk = new Uint8Array([0xd0, 0xd5, 0xc3, 0xfb]);
    expect(decode(gbk)).toEqual({ text: '姓名', encoding: 'gbk' });
  });
});

describe('withIgnoredColumns', () => {
  it('renames only the ignored headers and keeps the rows', () => {
    const text = '姓名,电话,"a,b"\r\n王,1,2\r\n';
    expect(withIgnoredColumns(text, ',', ['姓名', '电话', 'a,b'], ['name', null, null])).toBe('姓名,-电话,"-a,b"\r\n王,1,2\r\n');
    expect(withIgnoredColumns(text, ',', ['姓名', '电话', 'a,b'], ['name', 'phone', 'notes'])).toBe(text);
  });
});

describe('suggestMapping for a custom object', () => {
  const fields = [
    { key: 'plate', label: '车牌号' },
    { key: 'price', label: 'Purchase Price' },
    { key: 'fuel_type', label: 'Fuel' },
  ];

  it('maps the name aliases, and fields by key or label', () => {
    expect(suggestMapping('vehicle', ['名称', '车牌号', 'purchase price', 'Fuel-Type', 'Colour'], fields)).toEqual([
      'name',
      'custom.plate',
      'custom.price',
      'custom.fuel_type',
      null,
    ]);
    for (const h of ['name', ' Name ', 'NAME', '姓名', '名字', '标题', 'Title', 'ｎａｍｅ']) {
      expect(fieldFor('vehicle', h, fields), h).toBe('name');
    }
  });

  it('knows none of the contacts’ fields or aliases', () => {
    expect(suggestMapping('vehicle', ['名称', 'email', '手机', '公司名称', 'full_name', 'city'], fields)).toEqual([
      'name',
      null,
      null,
      null,
      null,
      null,
    ]);
    expect(targetsOf('vehicle')).toEqual(['name']);
    expect(targetsOf('contacts')).toBe(TARGETS.contacts);
  });

  it('compares as the server does: folded, full-width as ASCII, each space or hyphen an underscore', () => {
    // A key: each space or hyphen is one underscore, runs are not collapsed.
    expect(fieldFor('vehicle', 'FUEL TYPE', fields)).toBe('custom.fuel_type');
    expect(fieldFor('vehicle', 'fuel  type', fields)).toBeNull();
    expect(fieldFor('vehicle', 'ＰＬＡＴＥ', fields)).toBe('custom.plate');
    // A label: folded, spaces kept as they are.
    expect(fieldFor('vehicle', 'PURCHASE PRICE', fields)).toBe('custom.price');
    expect(fieldFor('vehicle', 'purchase_price', fields)).toBeNull();
    expect(fieldFor('vehicle', 'Ｐｕｒｃｈａｓｅ\u3000Ｐｒｉｃｅ', fields)).toBe('custom.price');
    expect(fieldFor('vehicle', '', fields)).toBeNull();
  });

  it('takes a field before a name alias, and a field goes to its first column only', () => {
    const titled = [{ key: 'title', label: '标题' }];
    expect(suggestMapping('article', ['name', 'title', '标题'], titled)).toEqual(['name', 'custom.title', null]);
    expect(suggestMapping('vehicle', ['名称', '姓名', 'plate', '车牌号'], fields)).toEqual(['name', null, 'custom.plate', null]);
  });

  it('folds each character alone, as Rust does (no final-sigma rule)', () => {
    expect(serverFold('ΟΔΟΣ')).toBe('οδοσ');
    expect(fieldFor('vehicle', 'ΟΔΟΣ', [{ key: 'street', label: 'οδοσ' }])).toBe('custom.street');
  });
});
