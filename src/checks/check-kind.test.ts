import { describe, expect, it } from "vitest";
import { createKindRegistry } from "../app/registry.js";
import { ConfigService } from "../config/config-service.js";
import { formatProblem } from "../config/problems.js";
import { applyOutcome, type CheckStateValue } from "./check-outcome.js";
import { followingDeadline, nextDeadline } from "./heartbeat-deadline.js";

const service = new ConfigService(createKindRegistry());
const PREFIX = `apiVersion: nines/v1
kind: Team
metadata: { name: ops }
spec: {}
---
apiVersion: nines/v1
kind: Service
metadata: { name: api }
spec: { ownerTeam: ops }
---
apiVersion: nines/v1
kind: Check
metadata: { name: c }
spec:
  service: api
`;
const problems = (spec: string) =>
  service.validate([{ path: "checks.yaml", content: PREFIX + spec }]).problems.map(formatProblem);

describe("the Check kind", () => {
  it("accepts an HTTP check with conditions and fills in the defaults", () => {
    const result = service.validate([
      {
        path: "c.yaml",
        content: `${PREFIX}  probe: { type: http, url: "https://example.com/health" }\n  conditions: ["[STATUS] == 200"]\n`,
      },
    ]);
    expect(result.problems).toEqual([]);
    expect(result.documents[2]?.spec).toMatchObject({
      interval: "60s",
      timeout: "10s",
      retries: 0,
      failureThreshold: 1,
      successThreshold: 1,
      paused: false,
    });
  });

  it("names the position inside a condition that is wrong", () => {
    expect(
      problems(
        `  probe: { type: http, url: "https://example.com" }\n  conditions:\n    - "[STATUS] == 200"\n    - "[STAUTS] < 500"\n`,
      ),
    ).toEqual([
      expect.stringMatching(
        /^checks\.yaml:19:7: error: spec\.conditions\.1: in "\[STAUTS\] < 500" at character 1: .*STAUTS/,
      ),
    ]);
    expect(
      problems(`  probe: { type: http, url: "https://example.com" }\n  conditions: ["[STATUS] =! 200"]\n`)[0],
    ).toMatch(/at character 10: /);
  });

  it("rejects a placeholder that the probe type does not have", () => {
    expect(
      problems(`  probe: { type: tcp, host: db, port: 5432 }\n  conditions: ["[STATUS] == 200"]\n`)[0],
    ).toMatch(/spec\.conditions\.0: in "\[STATUS\] == 200"/);
  });

  it("rejects an invalid URL, an interval under 1 s and a timeout not under the interval, with positions", () => {
    expect(problems(`  probe: { type: http, url: "not a url" }\n`)).toEqual([
      expect.stringMatching(
        /^checks\.yaml:16:29: error: spec\.probe\.url: must be an http:\/\/ or https:\/\/ URL/,
      ),
    ]);
    expect(
      problems(`  interval: 500ms\n  timeout: 100ms\n  probe: { type: tcp, host: db, port: 5432 }\n`),
    ).toEqual(["checks.yaml:16:13: error: spec.interval: interval must be between 1s and 24h"]);
    expect(
      problems(`  interval: 10s\n  timeout: 10s\n  probe: { type: tcp, host: db, port: 5432 }\n`),
    ).toEqual(["checks.yaml:17:12: error: spec.timeout: timeout (10s) must be less than the interval (10s)"]);
    expect(problems(`  interval: often\n  probe: { type: tcp, host: db, port: 5432 }\n`)[0]).toMatch(
      /spec\.interval: a duration such as "30s"/,
    );
  });

  it("needs exactly one of probe or heartbeat, and a heartbeat needs a period or a schedule", () => {
    expect(problems("  interval: 10s\n")[0]).toMatch(
      /a check needs exactly one of probe \(http, tcp, dns, tls\) or heartbeat/,
    );
    expect(problems("  heartbeat: { grace: 5m }\n")[0]).toMatch(
      /^checks\.yaml:16:14: error: spec\.heartbeat: a heartbeat needs exactly one of period/,
    );
    expect(problems('  heartbeat: { schedule: "every day" }\n')[0]).toMatch(
      /spec\.heartbeat\.schedule: not a cron schedule/,
    );
  });

  it("rejects a check whose service does not exist", () => {
    expect(problems("  heartbeat: { period: 1h }\n").length).toBe(0);
    const result = service.validate([
      {
        path: "x.yaml",
        content: `${PREFIX.replace("service: api", "service: apx")}  heartbeat: { period: 1h }\n`,
      },
    ]);
    expect(result.problems.map(formatProblem)).toEqual([
      'x.yaml:15:12: error: Check "c" refers to Service "apx", which is not defined. Did you mean "api"?',
    ]);
  });
});

describe("check state", () => {
  const up: CheckStateValue = { status: "up", since: 0, consecutiveFailures: 0, consecutiveSuccesses: 5 };
  const run = (ok: boolean, at: number, degraded = false) => ({
    ok,
    degraded,
    at,
    reason: ok ? null : "boom",
  });

  it("goes down only after failureThreshold failed runs in a row, and up after successThreshold good ones", () => {
    const t = { failureThreshold: 3, successThreshold: 2 };
    let s = up;
    const transitions: string[] = [];
    for (const [i, ok] of [false, false, true, false, false, false, true, true, true].entries()) {
      const next = applyOutcome(s, run(ok, i), t);
      s = next.state;
      if (next.transition) transitions.push(`${i}:${next.transition.from}->${next.transition.to}`);
    }
    expect(transitions).toEqual(["5:up->down", "7:down->up"]);
    expect(s.since).toBe(7);
  });

  it("moves between up and degraded at once, and a new check takes its first run's state", () => {
    const t = { failureThreshold: 2, successThreshold: 2 };
    expect(applyOutcome(up, run(true, 1, true), t).transition).toMatchObject({ from: "up", to: "degraded" });
    const pending: CheckStateValue = {
      status: "pending",
      since: 0,
      consecutiveFailures: 0,
      consecutiveSuccesses: 0,
    };
    expect(applyOutcome(pending, run(true, 1), t).state.status).toBe("up");
    expect(applyOutcome(pending, run(false, 1), t).state.status).toBe("pending");
  });
});

describe("heartbeat deadlines", () => {
  it("expects the next ping one period plus grace after the last", () => {
    const spec = { period: "1h", timezone: "UTC", grace: "5m" };
    expect(nextDeadline(spec, 0)).toBe(3_900_000);
    expect(followingDeadline(spec, 3_900_000)).toBe(7_500_000);
  });

  it("follows a cron schedule in its time zone, plus grace", () => {
    const spec = { schedule: "0 3 * * *", timezone: "Europe/Berlin", grace: "30m" };
    const lastPing = Date.UTC(2026, 0, 10, 2, 5); // 03:05 in Berlin, just after the 03:00 run
    expect(new Date(nextDeadline(spec, lastPing)).toISOString()).toBe("2026-01-11T02:30:00.000Z");
    expect(new Date(followingDeadline(spec, Date.UTC(2026, 0, 11, 2, 30))).toISOString()).toBe(
      "2026-01-12T02:30:00.000Z",
    );
  });
});
