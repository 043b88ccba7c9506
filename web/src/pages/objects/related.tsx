// What the contact and company pages mount: the related custom records, whose code loads
// only when such a page renders it (nothing of it is in the first download).

import { lazy, Suspense } from 'react';
import type { RelatedProps } from './RelatedRecords';

const RelatedRecords = lazy(() => import('./RelatedRecords'));

export function RelatedObjectRecords(props: RelatedProps) {
  return (
    <Suspense fallback={null}>
      <RelatedRecords {...props} />
    </Suspense>
  );
}
