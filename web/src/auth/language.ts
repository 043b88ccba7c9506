// After signing in, the console speaks the language the user saved on their account.

import { api } from '../api/client';
import { setLanguage, supported } from '../i18n';

export async function applyUserLanguage() {
  const { data } = await api.GET('/v1/me').catch(() => ({ data: undefined }));
  const lang = supported(data?.user.locale);
  if (lang) await setLanguage(lang);
}
