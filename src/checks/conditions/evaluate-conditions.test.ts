import { describe, expect, it } from "vitest";
import type {
  DnsProbeResult,
  HttpProbeResult,
  ProbeResult,
  TlsInfo,
  TlsProbeResult,
} from "../probes/probe-result.js";
import type { Condition } from "./condition.js";
import { evaluateConditions, wildcardMatch } from "./evaluate-conditions.js";
import { parseCondition } from "./parse-condition.js";

const START = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;

function http(overrides: Partial<HttpProbeResult> = {}): HttpProbeResult {
  return {
    type: "http",
    ok: true,
    failure: null,
    startedAt: START,
    durationMs: 123.4,
    timings: {},
    ip: "127.0.0.1",
    connected: true,
    status: 200,
    httpVersion: "1.1",
    headers: {},
    body: JSON.stringify({
      status: "UP",
      count: 3,
      data: { items: [{ name: "widget" }, { name: "gadget" }] },
      tags: ["a", "b"],
    }),
    bodyBytes: 0,
    finalUrl: "http://127.0.0.1/",
    redirects: [],
    tls: null,
    ...overrides,
  };
}

const tlsInfo = (earliestNotAfter: number): TlsInfo => ({
  protocol: "TLSv1.3",
  cipher: "TLS_AES_256_GCM_SHA384",
  leafNotAfter: earliestNotAfter + 80 * DAY,
  earliestNotAfter,
  hostnameVerified: true,
  chainVerified: true,
  verifyError: null,
  subject: "CN=localhost",
  issuer: "CN=Intermediate",
  chain: [],
});

function cond(text: string): Condition {
  const parsed = parseCondition(text);
  if (!parsed.ok) throw new Error(`${text}: ${parsed.error.message}`);
  return parsed.condition;
}

const check = (text: string, result: ProbeResult) => {
  const [outcome] = evaluateConditions([cond(text)], result);
  return outcome;
};

describe("evaluateConditions", () => {
  it.each([
    ["[STATUS] == 200", true, "200"],
    ["[STATUS] != 200", false, "200"],
    ["[STATUS] < 500", true, "200"],
    ["[STATUS] >= 300", false, "200"],
    ["[STATUS] == any(201, 200)", true, "200"],
    ["[RESPONSE_TIME] < 300", true, "123ms"],
    ["[RESPONSE_TIME] < 100", false, "123ms"],
    ["[RESPONSE_TIME] < 1s", true, "123ms"],
    ["[BODY].status == UP", true, "UP"],
    ["[BODY].status == DOWN", false, "UP"],
    ["[BODY].count == 3", true, "3"],
    ["[BODY].count > 2", true, "3"],
    ["[BODY].data.items[0].name == widget", true, "widget"],
    ["[BODY].data.items[1].name == pat(g*t)", true, "gadget"],
    ["len([BODY].data.items) > 0", true, "2"],
    ["len([BODY].data.items) == 3", false, "2"],
    ["len([BODY].status) == 2", true, "2"],
    ["len([BODY]) == 4", true, "4"],
    ["has([BODY].errors) == false", true, "false"],
    ["has([BODY].status) == true", true, "true"],
    ['[BODY] contains "widget"', true, null],
    ['[BODY] not contains "error"', true, null],
    ["[BODY] == pat(*UP*)", true, null],
    ["[BODY].tags contains a", true, '["a","b"]'],
    ["[BODY].tags contains c", false, '["a","b"]'],
    ["[CONNECTED] == true", true, "true"],
    ["[IP] == 127.0.0.1", true, "127.0.0.1"],
    ["[IP] == pat(127.0.*)", true, "127.0.0.1"],
  ] as const)("%s holds: %s", (text, ok, actual) => {
    const outcome = check(text, http());
    expect(outcome?.ok).toBe(ok);
    if (actual !== null) expect(outcome?.actual).toBe(actual);
  });

  it("records the actual value of a failed condition", () => {
    expect(
      evaluateConditions(
        [cond("[STATUS] == 200"), cond("[BODY].status == UP")],
        http({ status: 503, body: '{"status":"DOWN"}' }),
      ),
    ).toEqual([
      { condition: "[STATUS] == 200", ok: false, actual: "503" },
      { condition: "[BODY].status == UP", ok: false, actual: "DOWN" },
    ]);
  });

  it("fails a condition whose value the result lacks, and says why", () => {
    const refused = http({
      ok: false,
      failure: { kind: "connection_refused", reason: "connection refused" },
      status: null,
      body: "",
      connected: false,
    });
    expect(check("[STATUS] == 200", refused)).toEqual({
      condition: "[STATUS] == 200",
      ok: false,
      actual: "(none: connection refused)",
    });
    expect(check("[STATUS] != 200", refused)?.ok).toBe(false);
    expect(check("[CONNECTED] == false", refused)?.ok).toBe(true);
    expect(check("[BODY].missing == x", http())?.actual).toBe("(none: [BODY].missing not found in the body)");
  });

  it("counts certificate expiration from the run's start to the earliest expiry in the chain", () => {
    const result: TlsProbeResult = {
      type: "tls",
      ok: true,
      failure: null,
      startedAt: START,
      durationMs: 5,
      timings: {},
      ip: "127.0.0.1",
      connected: true,
      tls: tlsInfo(START + 10 * DAY),
    };
    expect(check("[CERTIFICATE_EXPIRATION] > 48h", result)).toEqual({
      condition: "[CERTIFICATE_EXPIRATION] > 48h",
      ok: true,
      actual: "10d",
    });
    expect(check("[CERTIFICATE_EXPIRATION] > 30d", result)?.ok).toBe(false);
    expect(check("[CERTIFICATE_EXPIRATION] > 48h", { ...result, tls: null })?.actual).toBe(
      "(none: no certificate)",
    );
  });

  it("reads DNS rcodes and answers", () => {
    const result: DnsProbeResult = {
      type: "dns",
      ok: true,
      failure: null,
      startedAt: START,
      durationMs: 2,
      timings: {},
      ip: "127.0.0.1",
      connected: true,
      rcode: "NOERROR",
      answers: [
        { name: "a.test", type: "A", ttl: 60, data: "192.0.2.1" },
        { name: "a.test", type: "A", ttl: 60, data: "192.0.2.2" },
      ],
      authority: [],
      usedTcp: false,
    };
    expect(check("[DNS_RCODE] == NOERROR", result)?.ok).toBe(true);
    expect(check("[DNS_RCODE] == any(NXDOMAIN, SERVFAIL)", result)).toMatchObject({
      ok: false,
      actual: "NOERROR",
    });
    expect(check("[BODY] contains 192.0.2.2", result)?.ok).toBe(true);
    expect(check("[BODY] contains 192.0.2.", result)?.ok).toBe(false);
    expect(check("len([BODY]) == 2", result)?.ok).toBe(true);
    expect(check("[BODY][0] == 192.0.2.1", result)?.ok).toBe(true);
    expect(check("[BODY] == 192.0.2.1", { ...result, answers: result.answers.slice(0, 1) })?.ok).toBe(true);
  });

  it("matches pat() wildcards over the whole text", () => {
    expect(wildcardMatch("*ok*", "all ok here")).toBe(true);
    expect(wildcardMatch("ok", "all ok")).toBe(false);
    expect(wildcardMatch("v?.2", "v1.2")).toBe(true);
    expect(wildcardMatch("a.b", "axb")).toBe(false);
    expect(wildcardMatch("*<h1>(x)</h1>*", "<p><h1>(x)</h1>\n</p>")).toBe(true);
  });
});
