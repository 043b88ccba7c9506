// The typed API client, generated from openapi.yaml: a route or field the API drops fails
// the type check here. Every request carries the in-memory access token; a 401 gets one
// silent refresh and one retry.

import createClient from 'openapi-fetch';
import type { paths } from './schema';
import { currentToken, refresh } from '../auth/session';
import { ApiProblem, problemFrom } from './problem';

let language = 'en';
export function setApiLanguage(lang: string) {
  language = lang;
}

async function authFetch(request: Request): Promise<Response> {
  const retry = request.clone();
  const token = await currentToken();
  const send = (req: Request, bearer: string | null) => {
    if (bearer) req.headers.set('authorization', `Bearer ${bearer}`);
    req.headers.set('accept-language', language);
    return fetch(req);
  };
  const res = await send(request, token);
  if (res.status === 401 && token && (await refresh())) {
    return send(retry, await currentToken());
  }
  return res;
}

export const api = createClient<paths>({ baseUrl: '', fetch: authFetch });

/** The data of an answer, or its problem thrown as an [`ApiProblem`]. */
export async function unwrap<D>(
  call: Promise<{ data?: D; error?: unknown; response: Response }>,
): Promise<D> {
  let result: { data?: D; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (e) {
    if (e instanceof ApiProblem) throw e;
    throw problemFrom(0, null);
  }
  if (!result.response.ok) throw problemFrom(result.response.status, result.error);
  return result.data as D;
}

/** The `If-Match` value for a record version (the API's ETag is the quoted version). */
export function ifMatch(version: number): string {
  return `"${version}"`;
}

export type Schemas = import('./schema').components['schemas'];
