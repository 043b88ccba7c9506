// The import wizard's pure parts: reading a CSV file's first lines in the browser, and
// suggesting which field each column fills, with the same names and Chinese headers the
// server knows (shared/src/imports/file.rs), so what the wizard proposes is what the
// import does.

/** The built-in objects the wizard imports, each with its own fields and aliases. */
export type BuiltinObject = 'contacts' | 'companies';

/** What an import fills: `contacts`, `companies`, or a custom object's key. */
export type ImportObject = BuiltinObject | (string & {});

export function isBuiltin(object: ImportObject): object is BuiltinObject {
  return object === 'contacts' || object === 'companies';
}

/** Fields a column can fill, in the order the wizard offers them. */
export const TARGETS: Record<BuiltinObject, readonly string[]> = {
  contacts: [
    'name',
    'email',
    'phone',
    'company_name',
    'title',
    'tags',
    'lifecycle_stage',
    'source',
    'notes',
    'street',
    'city',
    'region',
    'postal_code',
    'country',
    'national_id',
    'card_number',
    'bank_account',
    'date_of_birth',
  ],
  companies: [
    'name',
    'legal_name',
    'industry',
    'size_band',
    'country',
    'province',
    'city',
    'district',
    'address',
    'website',
    'phone',
    'tags',
    'lifecycle_stage',
    'notes',
  ],
};

const CUSTOM_TARGETS: readonly string[] = ['name'];

/** The fields (besides custom ones) a column can fill: a custom object's records have only
 * a name besides their fields. */
export function targetsOf(object: ImportObject): readonly string[] {
  return isBuiltin(object) ? TARGETS[object] : CUSTOM_TARGETS;
}

function fold(s: string): string {
  return s.trim().toLowerCase().replace(/[\s-]+/g, '_');
}

/** The server's `terms::fold`, character by character: full-width ASCII (U+FF01..U+FF5E,
 * common in CJK input) as plain ASCII, the ideographic space as a space, then lower case
 * (each character alone, as Rust's `char::to_lowercase`: no final-sigma rule). */
export function serverFold(text: string): string {
  let out = '';
  for (const c of text) {
    const code = c.codePointAt(0)!;
    const plain = code >= 0xff01 && code <= 0xff5e ? String.fromCodePoint(code - 0xfee0) : code === 0x3000 ? ' ' : c;
    out += plain.toLowerCase();
  }
  return out;
}

/** A header as the server compares it with field names and keys: folded, each space and
 * hyphen an underscore (runs are not collapsed). */
function serverKey(header: string): string {
  return serverFold(header).replace(/[ -]/g, '_');
}

/** A custom object's header names for `name` (`alias` in shared/src/imports/file.rs). */
const CUSTOM_NAME_ALIASES = ['名称', '姓名', '名字', '标题', 'title'];

/** A custom object's column, as the server maps it (`mapping`): `name` by its name, then a
 * field by key or label, then a name alias. The header is trimmed, as the server reads it. */
function customFieldFor(header: string, fields: CustomFieldRef[]): string | null {
  const h = header.trim();
  if (!h) return null;
  const key = serverKey(h);
  if (CUSTOM_TARGETS.includes(key)) return key;
  const folded = serverFold(h);
  const def = fields.find((d) => d.key === key || serverFold(d.label) === folded);
  if (def) return `custom.${def.key}`;
  return CUSTOM_NAME_ALIASES.includes(key) ? 'name' : null;
}

/** Header names known beyond the field names (as the server folds them). */
function alias(object: BuiltinObject, header: string): string | null {
  const h = fold(header);
  const contact = object === 'contacts';
  const table: [string[], string | ((c: boolean) => string | null)][] = [
    [['姓名', '名字', '联系人', 'full_name'], 'name'],
    [['名称', '公司名称', '企业名称', 'company'], (c) => (c ? null : 'name')],
    [['邮箱', '电子邮件', '电子邮箱', 'e_mail', 'emails', 'email_address', '邮件'], (c) => (c ? 'email' : null)],
    [['电话', '手机', '手机号', '手机号码', '联系电话', 'mobile', 'phones', 'tel', 'telephone'], 'phone'],
    [['公司', '公司名称', 'company', 'organization', '单位'], (c) => (c ? 'company_name' : null)],
    [['职位', '职务', 'job_title', 'position'], 'title'],
    [['标签', 'tag'], 'tags'],
    [['备注', 'note', 'remarks'], 'notes'],
    [['来源'], 'source'],
    [['国家'], 'country'],
    [['省', '省份', 'state', 'province'], (c) => (c ? 'region' : 'province')],
    [['城市', '市'], 'city'],
    [['区', '区县'], (c) => (c ? null : 'district')],
    [['地址', 'address', '街道'], (c) => (c ? 'street' : 'address')],
    [['邮编', 'zip'], (c) => (c ? 'postal_code' : null)],
    [['行业'], (c) => (c ? null : 'industry')],
    [['规模', 'size'], (c) => (c ? null : 'size_band')],
    [['网站', '网址', 'url'], (c) => (c ? null : 'website')],
    [['阶段', 'stage'], 'lifecycle_stage'],
    [['法定名称', '注册名称'], (c) => (c ? null : 'legal_name')],
  ];
  for (const [names, field] of table) {
    if (!names.includes(h)) continue;
    const f = typeof field === 'string' ? field : field(contact);
    if (f) return f;
  }
  return null;
}

export interface CustomFieldRef {
  key: string;
  label: string;
}

/** The field a column fills by its header: a field name, a custom field's key or label,
 * or a known alias (English or Chinese); null when none. For a custom object, `custom` is
 * its (active) fields, compared exactly as the server compares them. */
export function fieldFor(object: ImportObject, header: string, custom: CustomFieldRef[] = []): string | null {
  if (!isBuiltin(object)) return customFieldFor(header, custom);
  const folded = fold(header);
  if (!folded) return null;
  if (TARGETS[object].includes(folded)) return folded;
  const def = custom.find((d) => d.key === folded || d.label.trim().toLowerCase() === header.trim().toLowerCase());
  if (def) return `custom.${def.key}`;
  return alias(object, header);
}

/** A suggested field per column (by position); a field goes to its first column only. */
export function suggestMapping(object: ImportObject, headers: string[], custom: CustomFieldRef[] = []): (string | null)[] {
  const used = new Set<string>();
  return headers.map((h) => {
    const f = fieldFor(object, h, custom);
    if (!f || used.has(f)) return null;
    used.add(f);
    return f;
  });
}

/** What is wrong with a mapping: `needName` without a name column, `twice` when one field
 * is filled by two columns; null when it can be sent. */
export function mappingProblem(mapping: (string | null)[]): 'needName' | 'twice' | null {
  const fields = mapping.filter((f): f is string => !!f);
  if (new Set(fields).size !== fields.length) return 'twice';
  if (!fields.includes('name')) return 'needName';
  return null;
}

/** Decodes the file's bytes the way the server guesses: UTF-8 (BOM or not) when valid,
 * else GBK. */
export function decode(bytes: Uint8Array): { text: string; encoding: 'utf-8' | 'gbk' } {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return { text: text.replace(/^\uFEFF/, ''), encoding: 'utf-8' };
  } catch {
    return { text: new TextDecoder('gbk').decode(bytes), encoding: 'gbk' };
  }
}

/** The delimiter of the header line: `;` when it has more semicolons than commas. */
export function guessDelimiter(text: string): ',' | ';' {
  const first = text.split(/\r?\n/, 1)[0] ?? '';
  const count = (c: string) => first.split(c).length - 1;
  return count(';') > count(',') ? ';' : ',';
}

/** Reads up to `maxRecords` records (quoted cells, doubled quotes, line breaks inside
 * quotes) and counts the data rows of the whole text. */
export function parseCsv(text: string, delimiter: ',' | ';', maxRecords = 6): { records: string[][]; rows: number } {
  const records: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let count = 0;
  let rowHasContent = false;
  const endRow = () => {
    row.push(cell);
    if (rowHasContent || row.length > 1 || cell !== '') {
      if (records.length < maxRecords) records.push(row);
      count++;
    }
    row = [];
    cell = '';
    rowHasContent = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else cell += ch;
      continue;
    }
    if (ch === '"') {
      quoted = true;
      rowHasContent = true;
    } else if (ch === delimiter) {
      row.push(cell);
      cell = '';
      rowHasContent = true;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRow();
    } else {
      cell += ch;
      rowHasContent = true;
    }
  }
  if (cell !== '' || row.length) endRow();
  return { records, rows: Math.max(0, count - 1) };
}

/** The query's `map` for the server: every mapped column by its header. */
export function mapQuery(headers: string[], mapping: (string | null)[]): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((h, i) => {
    const f = mapping[i];
    if (f) out[h] = f;
  });
  return out;
}

/** The end of the first record (the header line), after its line break. */
function headerEnd(text: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '\n') return i + 1;
    else if (!quoted && ch === '\r') return text[i + 1] === '\n' ? i + 2 : i + 1;
  }
  return text.length;
}

function quote(cell: string, delimiter: string): string {
  return /["\r\n]/.test(cell) || cell.includes(delimiter) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

/** The file with its header line rewritten so that a column the user chose not to import
 * has a name the server cannot take for a field ("-" first); the data lines are kept as
 * they are. The server maps by header name and has no "ignore" of its own. */
export function withIgnoredColumns(text: string, delimiter: ',' | ';', headers: string[], mapping: (string | null)[]): string {
  if (headers.every((_, i) => mapping[i])) return text;
  const end = headerEnd(text);
  const line = headers.map((h, i) => quote(mapping[i] ? h : `-${h}`, delimiter)).join(delimiter);
  const br = text.slice(0, end).match(/\r?\n$/)?.[0] ?? '\n';
  return line + br + text.slice(end);
}
