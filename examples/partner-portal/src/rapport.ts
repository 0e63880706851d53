// A minimal client of Rapport's partner route. Each operation is a typed
// document from GraphQL Code Generator (src/gql, made by `npm run codegen`
// from Rapport's schema.graphql), so its variables and its result are typed
// and no GraphQL library is needed at run time.
import { createHash } from 'node:crypto';
import type { TypedDocumentString } from './gql/graphql.js';

/** An error Rapport answered with: the message and extensions.code. */
export class RapportError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly status: number,
  ) {
    super(code ? `${code}: ${message}` : message);
  }
}

interface Response<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
  message?: string; // API Gateway's own refusals: {"message":"Forbidden"}
}

/** Operations with no variables take none. */
type VariablesOf<V> = V extends Record<string, never> ? [] : [V];

export interface PartnerClient {
  request<R, V>(document: TypedDocumentString<R, V>, ...variables: VariablesOf<V>): Promise<R>;
  /** How many requests ran by hash alone, and how many had to send their query. */
  readonly persisted: { hits: number; registered: number };
}

/**
 * A client of /partner/graphql signed in with the organization's API key.
 * Keys are server-side secrets: call Rapport from the portal's backend,
 * never from a browser.
 *
 * Queries go as automatic persisted queries: the SHA-256 of the query
 * first, and the query itself only when Rapport answers
 * PERSISTED_QUERY_NOT_FOUND (the first time an API instance sees it).
 */
export function partnerClient(baseURL: string, apiKey: string): PartnerClient {
  const url = new URL('/partner/graphql', baseURL);
  const persisted = { hits: 0, registered: 0 };

  async function post<R>(body: object): Promise<{ status: number; body: Response<R> }> {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        // Request errors come back as 4xx with no data entry.
        Accept: 'application/graphql-response+json',
        'X-Api-Key': apiKey,
      },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    try {
      return { status: res.status, body: JSON.parse(text) as Response<R> };
    } catch {
      throw new RapportError(`HTTP ${res.status}: ${text.slice(0, 200)}`, undefined, res.status);
    }
  }

  return {
    persisted,
    async request<R, V>(document: TypedDocumentString<R, V>, ...[variables]: VariablesOf<V>): Promise<R> {
      const query = document.toString();
      const sha256Hash = createHash('sha256').update(query).digest('hex');
      const extensions = { persistedQuery: { version: 1, sha256Hash } };
      let res = await post<R>({ variables, extensions });
      if (res.body.errors?.[0]?.extensions?.code === 'PERSISTED_QUERY_NOT_FOUND') {
        res = await post<R>({ query, variables, extensions });
        persisted.registered++;
      } else {
        persisted.hits++;
      }
      const { status, body } = res;
      const first = body.errors?.[0];
      if (first) {
        throw new RapportError(first.message, first.extensions?.code, status);
      }
      if (status >= 300 || body.data == null) {
        throw new RapportError(body.message ?? `HTTP ${status} without data`, undefined, status);
      }
      return body.data;
    },
  };
}
