import { objects } from './objects';
import { records } from './records';
import { sales } from './sales';

/** Every area beyond the core (sign-in, workbench, contacts). Texts live under the key. */
export const AREAS = { sales, records, objects } as const;
