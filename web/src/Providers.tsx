// Ant Design in the reader's language, with the app's theme.

import { App as AntApp, ConfigProvider } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

export function Providers({ children }: { children: ReactNode }) {
  const { i18n } = useTranslation();
  const zh = i18n.language === 'zh-CN';
  return (
    <ConfigProvider
      locale={zh ? zhCN : enUS}
      theme={{
        token: {
          colorPrimary: '#1f5eff',
          borderRadius: 6,
          fontFamily:
            "-apple-system, BlinkMacSystemFont, 'Segoe UI', 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', 'Noto Sans CJK SC', 'Helvetica Neue', Arial, sans-serif",
        },
      }}
    >
      <AntApp>{children}</AntApp>
    </ConfigProvider>
  );
}
