// The language menu. Signed in, the choice is saved on the user (PATCH /v1/me) so it
// follows them to any browser; signed out, only this browser remembers it.

import { Button, Dropdown } from 'antd';
import { GlobalOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { LANGUAGES, setLanguage, type Language } from '../i18n';
import { api } from '../api/client';

export function useSwitchLanguage(save: boolean) {
  const queryClient = useQueryClient();
  return useCallback(
    async (lang: Language) => {
      await setLanguage(lang);
      if (save) {
        await api.PATCH('/v1/me', { body: { locale: lang } }).catch(() => undefined);
        void queryClient.invalidateQueries({ queryKey: ['me'] });
      }
    },
    [queryClient, save],
  );
}

export function LanguageSwitch({ save = false }: { save?: boolean }) {
  const { i18n, t } = useTranslation();
  const switchTo = useSwitchLanguage(save);
  const current = LANGUAGES.find((l) => l.code === i18n.language) ?? LANGUAGES[1];
  return (
    <Dropdown
      trigger={['click']}
      menu={{
        selectable: true,
        selectedKeys: [current.code],
        items: LANGUAGES.map((l) => ({ key: l.code, label: <span lang={l.code}>{l.label}</span> })),
        onClick: ({ key }) => void switchTo(key as Language),
      }}
    >
      <Button type="text" icon={<GlobalOutlined />} aria-label={`${t('nav.language')}: ${current.label}`} data-testid="language-switch">
        {current.label}
      </Button>
    </Dropdown>
  );
}
