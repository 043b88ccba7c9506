import { describe, expect, it } from 'vitest';
import { withIgnoredColumns, decode, fieldFor, guessDelimiter, mappingProblem, mapQuery, parseCsv, suggestMapping } from './mapping';

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
