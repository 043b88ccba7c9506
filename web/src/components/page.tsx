import { Spin } from 'antd';
import { Suspense, type ReactNode } from 'react';

/** A lazily loaded page, with a spinner while its code arrives. */
export function page(node: ReactNode) {
  return (
    <Suspense
      fallback={
        <div style={{ padding: 48, textAlign: 'center' }}>
          <Spin />
        </div>
      }
    >
      {node}
    </Suspense>
  );
}
