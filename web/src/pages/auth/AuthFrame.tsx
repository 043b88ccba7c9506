// The frame of the signed-out pages: a centred card, the language menu on top.

import { Card, Flex, Typography } from 'antd';
import type { ReactNode } from 'react';
import { LanguageSwitch } from '../../components/LanguageSwitch';

export function AuthFrame({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Flex vertical align="center" style={{ minHeight: '100vh', background: '#f3f5f9', padding: '24px 12px' }}>
      <Flex justify="flex-end" style={{ width: '100%', maxWidth: 440 }}>
        <LanguageSwitch />
      </Flex>
      <main style={{ width: '100%', maxWidth: 440, marginTop: '6vh' }}>
        <Typography.Title level={3} style={{ textAlign: 'center', color: '#1d4ed8' }}>
          CRM
        </Typography.Title>
        <Card>
          <Typography.Title level={1} style={{ fontSize: 22, marginTop: 0 }}>
            {title}
          </Typography.Title>
          {children}
        </Card>
      </main>
    </Flex>
  );
}
