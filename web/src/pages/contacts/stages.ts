import type { Schemas } from '../../api/client';

export const STAGES: Schemas['LifecycleStage'][] = [
  'subscriber',
  'lead',
  'marketing_qualified',
  'sales_qualified',
  'opportunity',
  'customer',
  'evangelist',
  'other',
];
