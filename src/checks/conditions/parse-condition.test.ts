import { describe, expect, it } from "vitest";
import { parseCondition, placeholdersFor } from "./parse-condition.js";

const error = (text: string, probeType?: "http" | "tcp" | "dns" | "tls") => {
  const parsed = parseCondition(text, { probeType });
  if (parsed.ok) throw new Error(`expected ${text} to be rejected`);
  return parsed.error;
};

describe("parseCondition", () => {
  it.each([
    "[STATUS] == 200",
    "[STATUS] < 500",
    "[RESPONSE_TIME] < 300",
    "[BODY].status == UP",
    "[BODY].data.items[0].name == widget",
    "[BODY][0].id == 1",
    "len([BODY].items) > 0",
    "has([BODY].errors) == false",
    '[BODY] contains "ok"',
    '[BODY] not contains "error"',
    "[BODY] == pat(*ok*)",
    "[STATUS] == any(200, 429)",
    "[CERTIFICATE_EXPIRATION] > 48h",
    "[CONNECTED] == true",
    "[IP] == 127.0.0.1",
    "[IP] == pat(192.168.*)",
  ])("accepts %s", (text) => {
    expect(parseCondition(text, { probeType: "http" })).toMatchObject({ ok: true });
  });

  it("parses the parts of a condition", () => {
    const parsed = parseCondition("  len([BODY].data.items) >= 2 ");
    expect(parsed).toEqual({
      ok: true,
      condition: {
        text: "len([BODY].data.items) >= 2",
        left: {
          kind: "ref",
          placeholder: "BODY",
          fn: "len",
          path: [
            { kind: "key", key: "data" },
            { kind: "key", key: "items" },
          ],
          column: 3,
          text: "len([BODY].data.items)",
        },
        operator: ">=",
        right: { kind: "literal", value: "2", number: 2, isDuration: false },
      },
    });
  });

  it("reads durations in ms and DNS rcodes in upper case", () => {
    const cert = parseCondition("[CERTIFICATE_EXPIRATION] > 7d");
    expect(cert.ok && cert.condition.right).toEqual({
      kind: "literal",
      value: "7d",
      number: 7 * 86_400_000,
      isDuration: true,
    });
    const rcode = parseCondition("[DNS_RCODE] == nxdomain");
    expect(rcode.ok && rcode.condition.right).toMatchObject({ value: "NXDOMAIN" });
  });

  it("points at an unknown placeholder and lists the valid ones", () => {
    expect(error("[STATUSCODE] == 200")).toEqual({
      message:
        "unknown placeholder [STATUSCODE]; use one of [STATUS], [RESPONSE_TIME], [BODY], [CERTIFICATE_EXPIRATION], [DNS_RCODE], [CONNECTED], [IP]",
      column: 1,
    });
    expect(error("len([FOO]) > 1").column).toBe(5);
  });

  it("points at an unknown operator", () => {
    expect(error("[STATUS] = 200")).toEqual({
      message: 'unknown operator "="; use one of ==, !=, <=, >=, <, >, contains, not contains',
      column: 10,
    });
    expect(error("[STATUS] === 200").column).toBe(10);
    expect(error("[BODY] includes ok").message).toMatch(/^unknown operator "includes"/);
  });

  it("reports a missing operand or operator at the end", () => {
    expect(error("[STATUS] ==")).toEqual({ message: "missing value after ==", column: 12 });
    expect(error("[STATUS] ==   ")).toEqual({ message: "missing value after ==", column: 15 });
    expect(error("[STATUS]").message).toMatch(/^missing operator after \[STATUS\]/);
    expect(error("").message).toMatch(/^empty condition/);
  });

  it("points at an unterminated quote", () => {
    expect(error('[BODY] contains "ok')).toEqual({
      message: 'unterminated quote: missing closing "',
      column: 17,
    });
  });

  it("rejects a condition that does not start with a placeholder", () => {
    expect(error("200 == [STATUS]").column).toBe(1);
    expect(error("pat(*ok*) == [BODY]").message).toMatch(/right side/);
  });

  it("rejects comparisons that cannot make sense", () => {
    expect(error("[IP] > 5").message).toBe("[IP] is not a number; use ==, != or contains with it");
    expect(error("[STATUS] < abc")).toEqual({
      message: '< needs a number or a duration such as 30s, 5m, 48h, 7d; got "abc"',
      column: 12,
    });
    expect(error("[STATUS] < 5m").message).toBe("[STATUS] is not a duration; compare it with a plain number");
    expect(error("[DNS_RCODE] == NOTACODE").message).toMatch(
      /^unknown DNS rcode "NOTACODE"; use one of NOERROR/,
    );
    expect(error("[CONNECTED] == yes").message).toBe('[CONNECTED] is true or false; got "yes"');
    expect(error("[STATUS].code == 1").message).toMatch(/only \[BODY\] takes a JSON path/);
    expect(error("[STATUS] < pat(5*)").message).toBe("pat() works only with == and !=");
    expect(error("[BODY] == pat(*ok*").message).toBe("pat( is not closed: expected ) at the end");
  });

  it("rejects placeholders the check type does not produce", () => {
    expect(error("[DNS_RCODE] == NOERROR", "http")).toEqual({
      message:
        "[DNS_RCODE] is not available for http checks; use one of [STATUS], [RESPONSE_TIME], [BODY], [CERTIFICATE_EXPIRATION], [CONNECTED], [IP]",
      column: 1,
    });
    expect(error('[BODY] contains "x"', "tls").column).toBe(1);
    expect(parseCondition("[DNS_RCODE] == NOERROR", { probeType: "dns" }).ok).toBe(true);
    expect(error("[STATUS] == 200", "tcp").column).toBe(1);
    expect(placeholdersFor("tls")).toEqual(["RESPONSE_TIME", "CERTIFICATE_EXPIRATION", "CONNECTED", "IP"]);
  });
});
