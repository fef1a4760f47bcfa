/** One HTTP request as a client sends it, before or after a redirect. */
export interface RedirectableRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** Headers that must not follow a redirect to another origin, as browsers, curl and Go's client do. */
const CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization"];

/**
 * The request a redirect leads to, per RFC 9110 and as every client does: 303 (except after HEAD), and 301/302
 * after a POST, become a GET without the body or its content headers; 307/308 repeat the request; credentials
 * are dropped when the origin changes. Null when `location` is not a valid http(s) URL. Shared by the checks'
 * HTTP probe and the receivers' HTTP client.
 */
export function redirectedRequest(
  request: RedirectableRequest,
  status: number,
  location: string,
): RedirectableRequest | null {
  let url: URL;
  try {
    url = new URL(location, request.url);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  const toGet =
    status === 303
      ? request.method !== "HEAD"
      : (status === 301 || status === 302) && request.method === "POST";
  const headers = { ...request.headers };
  if (url.origin !== request.url.origin) {
    for (const name of Object.keys(headers))
      if (CREDENTIAL_HEADERS.includes(name.toLowerCase())) delete headers[name];
  }
  if (toGet) {
    for (const name of Object.keys(headers)) {
      if (/^content-(length|type|encoding)$/i.test(name)) delete headers[name];
    }
  }
  return { url, method: toGet ? "GET" : request.method, headers, body: toGet ? undefined : request.body };
}
