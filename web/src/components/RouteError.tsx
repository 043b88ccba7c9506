import { Button, Result } from 'antd';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { useRouteError } from 'react-router';

export function RouteError() {
  const { t } = useTranslation();
  const error = useRouteError();
  useEffect(() => {
    // Kept for whoever opens the browser console (and for the end-to-end tests' log).
    console.error('route error', error);
  }, [error]);
  return (
    <Result
      status="error"
      title={t('problems.unexpected')}
      extra={
        <Button type="primary" onClick={() => window.location.reload()}>
          {t('common.retry')}
        </Button>
      }
    />
  );
}
