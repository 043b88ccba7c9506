// The frame of the signed-in console: the menu in the order work flows (workbench,
// contacts, companies, deals, …), a top bar with search, "+ New", the notification bell,
// the language and the account. On a phone the menu folds into a drawer.

import {
  AppstoreOutlined,
  ContactsOutlined,
  HomeOutlined,
  LogoutOutlined,
  MenuOutlined,
  PlusOutlined,
  UserOutlined,
} from '@ant-design/icons';
import { Avatar, Button, Drawer, Dropdown, Flex, Grid, Input, Layout, Menu, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Outlet, useLocation, useNavigate } from 'react-router';
import { logout } from '../auth/session';
import { forgetRecent } from '../components/recent';
import { can, useMe } from '../auth/me';
import { LanguageSwitch, useSwitchLanguage } from '../components/LanguageSwitch';
import { LANGUAGES, type Language } from '../i18n';
import { NotificationBell } from './NotificationBell';
import { AREAS } from '../pages/areas';

const { Header, Sider, Content } = Layout;

export default function AppLayout() {
  const { t } = useTranslation();
  const screens = Grid.useBreakpoint();
  const phone = !screens.md;
  const [drawer, setDrawer] = useState(false);
  const location = useLocation();
  const navigate = useNavigate();
  const { data: me } = useMe();
  const search = useRef<HTMLInputElement>(null);
  const switchLanguage = useSwitchLanguage(true);

  // `/` focuses the search box, as in the CRMs people come from.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      const typing = target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.isContentEditable);
      if (e.key === '/' && !typing) {
        e.preventDefault();
        search.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const section = '/' + (location.pathname.split('/')[1] ?? '');
  const entries = [
    { path: '/', icon: <HomeOutlined />, label: 'nav.home', order: 0 },
    { path: '/contacts', icon: <ContactsOutlined />, label: 'nav.contacts', order: 10 },
    ...Object.values(AREAS).flatMap((a) => a.nav),
  ].sort((a, b) => a.order - b.order);
  const items = entries.map((e) => ({ key: e.path, icon: e.icon, label: <Link to={e.path}>{t(e.label)}</Link> }));
  const menu = (
    <Menu
      mode="inline"
      selectedKeys={[section]}
      items={items}
      onClick={() => setDrawer(false)}
      style={{ borderInlineEnd: 0 }}
    />
  );

  return (
    <Layout style={{ minHeight: '100vh' }}>
      {!phone && (
        <Sider theme="light" width={208} breakpoint="lg" collapsible style={{ borderRight: '1px solid #f0f0f0' }}>
          <Typography.Title level={4} style={{ margin: '16px 24px', color: '#1d4ed8' }}>
            <AppstoreOutlined /> CRM
          </Typography.Title>
          <nav aria-label={t('nav.menu')}>{menu}</nav>
        </Sider>
      )}
      <Drawer
        open={phone && drawer}
        onClose={() => setDrawer(false)}
        placement="left"
        size={240}
        title="CRM"
        styles={{ body: { padding: 0 } }}
      >
        <nav aria-label={t('nav.menu')}>{menu}</nav>
      </Drawer>
      <Layout>
        <Header
          style={{
            background: '#fff',
            padding: phone ? '0 8px' : '0 24px',
            borderBottom: '1px solid #f0f0f0',
            position: 'sticky',
            top: 0,
            zIndex: 10,
          }}
        >
          <Flex align="center" gap={phone ? 4 : 12} style={{ height: '100%' }}>
            {phone && (
              <Button type="text" icon={<MenuOutlined />} aria-label={t('nav.menu')} onClick={() => setDrawer(true)} />
            )}
            <Input.Search
              ref={(el) => {
                search.current = el?.input ?? null;
              }}
              placeholder={phone ? t('contacts.searchPlaceholder') : t('nav.search')}
              aria-label={t('nav.search')}
              allowClear
              style={{ maxWidth: 420, flex: 1 }}
              onSearch={(q) => navigate(q.trim() ? `/contacts?q=${encodeURIComponent(q.trim())}` : '/contacts')}
            />
            <Flex align="center" gap={phone ? 0 : 8} style={{ marginLeft: 'auto' }}>
              <Dropdown
                trigger={['click']}
                menu={{
                  items: [
                    ...(can(me, 'contacts', 'create') ? [{ key: '/contacts/new', label: t('nav.newContact') }] : []),
                    ...(can(me, 'companies', 'create') ? [{ key: '/companies/new', label: t('nav.newCompany') }] : []),
                  ],
                  onClick: ({ key }) => navigate(key),
                }}
              >
                <Button type="primary" icon={<PlusOutlined />} aria-label={t('nav.new')}>
                  {phone ? null : t('nav.new')}
                </Button>
              </Dropdown>
              <NotificationBell />
              {!phone && <LanguageSwitch save />}
              <Dropdown
                trigger={['click']}
                menu={{
                  items: [
                    { key: 'who', label: me ? `${me.user.name} · ${me.tenant.company_name}` : '', disabled: true },
                    ...(phone
                      ? LANGUAGES.map((l) => ({ key: `lang:${l.code}`, label: <span lang={l.code}>{l.label}</span> }))
                      : []),
                    { type: 'divider' as const },
                    { key: 'logout', icon: <LogoutOutlined />, label: t('nav.logout'), danger: true },
                  ],
                  onClick: async ({ key }) => {
                    if (key.startsWith('lang:')) void switchLanguage(key.slice(5) as Language);
                    if (key === 'logout') {
                      forgetRecent();
                      await logout();
                      navigate('/login', { replace: true });
                    }
                  },
                }}
              >
                <Button type="text" aria-label={t('nav.account')} icon={<Avatar size="small" icon={<UserOutlined />} />} />
              </Dropdown>
            </Flex>
          </Flex>
        </Header>
        <Content style={{ padding: phone ? 12 : 24 }}>
          <main>
            <Outlet />
          </main>
        </Content>
      </Layout>
    </Layout>
  );
}
