// Importing a custom object's records from a CSV file: the records' import wizard, given
// the object's fields (those the caller may see) and its names in the reader's language.

import { Breadcrumb, Result, Skeleton } from 'antd';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useMe } from '../../auth/me';
import ImportWizard from '../records/imports/ImportWizard';
import { activeFields, canObject, labelOf, objectFieldRule, useObject } from './definitions';

export default function ObjectImport() {
  const { key = '' } = useParams();
  const { t, i18n } = useTranslation();
  const object = useObject(key);
  const me = useMe();
  const def = object.data;
  const fields = useMemo(
    () =>
      activeFields(def)
        .filter((f) => objectFieldRule(me.data, key, f.key) !== 'hidden')
        .map((f) => ({ key: f.key, label: f.label })),
    [def, me.data, key],
  );
  if (object.isLoading || me.isLoading) return <Skeleton active />;
  if (!def) {
    return (
      <Result
        status="404"
        title={t('objects.list.notFound', { key })}
        extra={<Link to="/objects">{t('objects.home.title')}</Link>}
      />
    );
  }
  const plural = labelOf(def.plural_label, i18n.language) || labelOf(def.label, i18n.language);
  if (!canObject(me.data, key, 'create')) {
    return (
      <Result
        status="403"
        title={t('objects.import.forbidden', { label: plural })}
        extra={<Link to={`/objects/${key}`}>{t('objects.record.back', { label: plural })}</Link>}
      />
    );
  }
  return (
    <>
      <Breadcrumb
        style={{ marginBottom: 8 }}
        items={[
          { title: <Link to="/objects">{t('objects.home.title')}</Link> },
          { title: <Link to={`/objects/${key}`}>{plural}</Link> },
          { title: t('objects.list.import') },
        ]}
      />
      <ImportWizard
        object={key}
        definition={{
          title: t('objects.import.title', { label: plural }),
          view: t('objects.import.view', { label: plural }),
          path: `/objects/${key}`,
          fields,
        }}
      />
    </>
  );
}
