// Languages: zh-CN and en. The choice comes from the user's saved locale once signed in,
// before that from this browser's last choice, else from the browser's languages.

import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import en from './en';
import zhCN from './zh-CN';
import { setApiLanguage } from '../api/client';
import { AREAS } from '../pages/areas';

export const LANGUAGES = [
  { code: 'zh-CN', label: '简体中文' },
  { code: 'en', label: 'English' },
] as const;
export type Language = (typeof LANGUAGES)[number]['code'];

const STORAGE_KEY = 'crm.language';

/** The supported language closest to a BCP 47 tag (`zh`, `zh-Hans-CN` → `zh-CN`). */
export function supported(tag: string | null | undefined): Language | null {
  if (!tag) return null;
  const lower = tag.toLowerCase();
  if (lower.startsWith('zh')) return 'zh-CN';
  if (lower.startsWith('en')) return 'en';
  return null;
}

export function initialLanguage(): Language {
  const stored = supported(safeStorage()?.getItem(STORAGE_KEY));
  if (stored) return stored;
  const langs = typeof navigator === 'undefined' ? [] : navigator.languages ?? [navigator.language];
  for (const l of langs) {
    const s = supported(l);
    if (s) return s;
  }
  return 'en';
}

function safeStorage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

function apply(lang: Language) {
  dayjs.locale(lang === 'zh-CN' ? 'zh-cn' : 'en');
  setApiLanguage(lang);
  if (typeof document !== 'undefined') document.documentElement.lang = lang;
}

/** Switches the language and remembers it in this browser (only the language code). */
export async function setLanguage(lang: Language) {
  safeStorage()?.setItem(STORAGE_KEY, lang);
  apply(lang);
  await i18n.changeLanguage(lang);
}

function areaTexts(lang: Language) {
  return Object.fromEntries(Object.entries(AREAS).map(([key, area]) => [key, area.texts[lang]]));
}

const first = initialLanguage();
apply(first);
void i18n.use(initReactI18next).init({
  resources: {
    en: { translation: { ...en, ...areaTexts('en') } },
    'zh-CN': { translation: { ...zhCN, ...areaTexts('zh-CN') } },
  },
  lng: first,
  fallbackLng: 'en',
  interpolation: { escapeValue: false },
  returnNull: false,
});

export default i18n;
