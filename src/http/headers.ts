// Response headers as undici hands them over (lower-case names, repeated
// headers as arrays). No imports: the main thread reads them too and must
// not load the HTTP client.

export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** The (first) value of a header. */
export function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
